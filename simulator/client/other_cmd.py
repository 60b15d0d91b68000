"""Image, network, volume and system commands."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from simulator.client.containers_cmd import api_timestamp, flag_filters, pull_image, render_format
from simulator.client.output import (
    ListingRow,
    ellipsis,
    go_rfc3339,
    go_time,
    go_time_rfc3339,
    is_default_format,
    table,
)
from simulator.client.session import CliError, Session
from simulator.client.units import created_ago, human_size
from simulator.model.errors import DockerError
from simulator.model.reference import normalize


def cmd_pull(s: Session, a: argparse.Namespace) -> int:
    ref = normalize(a.image)
    if ref.tag == "latest" and ":" not in a.image.rsplit("/", 1)[-1] and "@" not in a.image:
        s.out.write("Using default tag: latest\n")
    try:
        pull_image(s, a.image, s.out, quiet=a.quiet)
    except DockerError as err:
        raise CliError(f"Error response from daemon: {err.message}", 1) from None
    s.out.write(str(ref) + "\n")
    return 0


class ImageRow(ListingRow):
    JSON_EXTRA: ClassVar[dict[str, Any]] = {"Containers": "N/A", "SharedSize": "N/A", "UniqueSize": "N/A"}

    def __init__(self, img: dict[str, Any], tag: str, now: float, trunc: bool) -> None:
        repo, _, t = tag.rpartition(":") if tag else ("<none>", "", "<none>")
        self.Repository = repo or "<none>"
        self.Tag = t or "<none>"
        self.ID = img["Id"].removeprefix("sha256:")[:12] if trunc else img["Id"]
        self.CreatedSince = created_ago(img["Created"], now)
        self.CreatedAt = go_time(img["Created"])
        self.Size = human_size(img["Size"])
        self.Digest = (img.get("RepoDigests") or ["<none>"])[0].rpartition("@")[2] or "<none>"
        self.VirtualSize = human_size(img["Size"], 4)


def cmd_images(s: Session, a: argparse.Namespace) -> int:
    q: dict[str, Any] = {}
    filters = flag_filters(a.filter)
    if a.repository:
        filters.setdefault("reference", {})[a.repository] = True
    if filters:
        q["filters"] = filters
    if a.all:
        q["all"] = 1
    imgs = s.json("GET", "/images/json", q or None)
    now = s.now()
    rows: list[ImageRow] = []
    for img in imgs:
        for tag in img.get("RepoTags") or [""]:
            rows.append(ImageRow(img, tag, now, not a.no_trunc))
    if a.quiet:  # one line a row, as docker: an image with two tags is listed twice
        s.out.write("".join(r.ID + "\n" for r in rows))
        return 0
    if not is_default_format(a.format):
        return render_format(s, a.format, rows, id_header="IMAGE ID")
    s.out.write(
        table(
            ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
            [[r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size] for r in rows],
        )
    )
    return 0


def cmd_rmi(s: Session, a: argparse.Namespace) -> int:
    code = 0
    for name in a.images:
        try:
            for item in s.json("DELETE", f"/images/{name}", {"force": 1 if a.force else None}):
                for k, v in item.items():
                    s.out.write(f"{k}: {v}\n")
        except DockerError as err:
            s.err.write(f"Error response from daemon: {err.message}\n")
            if not (a.force and err.status == 404):  # -f: a missing image is said, not a failure
                code = 1
    return code


def cmd_tag(s: Session, a: argparse.Namespace) -> int:
    target = normalize(a.target)
    s.json("POST", f"/images/{a.source}/tag", {"repo": target.name, "tag": target.tag or "latest"})
    return 0


class HistoryRow(ListingRow):
    """The fields ``docker history --format`` exposes (``-H=false``: raw dates and byte counts)."""

    HEADERS = {
        "ID": "IMAGE",
        "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY",
        "Size": "SIZE",
        "Comment": "COMMENT",
    }

    def __init__(self, r: dict[str, Any], now: float, trunc: bool, human: bool) -> None:
        full = str(r["Id"])
        self.ID = full if full == "<missing>" or not trunc else full.removeprefix("sha256:")[:12]
        self.CreatedAt = go_rfc3339(r["Created"])
        self.CreatedSince = created_ago(r["Created"], now) if human else self.CreatedAt
        self.CreatedBy = ellipsis(r["CreatedBy"], 45) if trunc else r["CreatedBy"]
        self.Size = human_size(r["Size"]) if human else str(r["Size"])
        self.Comment = r["Comment"]


def cmd_history(s: Session, a: argparse.Namespace) -> int:
    now = s.now()
    rows = [HistoryRow(r, now, not a.no_trunc, a.human) for r in s.json("GET", f"/images/{a.image}/history")]
    if a.quiet:
        s.out.write("".join(r.ID + "\n" for r in rows))
        return 0
    if not is_default_format(a.format):
        return render_format(s, a.format, rows, headers=HistoryRow.HEADERS)
    s.out.write(
        table(
            ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
            [[r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment] for r in rows],
        )
    )
    return 0


def cmd_image_prune(s: Session, a: argparse.Namespace) -> int:
    q = {"filters": {"dangling": {"false": True}}} if a.all else None
    result = s.json("POST", "/images/prune", q)
    items = result.get("ImagesDeleted") or []
    if items:
        s.out.write("Deleted Images:\n")
        for item in items:
            for k, v in item.items():
                s.out.write(f"{k.lower()}: {v}\n")
        s.out.write("\n")
    s.out.write(f"Total reclaimed space: {human_size(result.get('SpaceReclaimed', 0))}\n")
    return 0


# -- networks --------------------------------------------------------------------------
def _filters_query(raw: list[str]) -> dict[str, Any] | None:
    """``-f key=value`` flags as the API's ``filters`` query (None when there are none)."""
    filters = flag_filters(raw)
    return {"filters": filters} if filters else None


class NetworkRow(ListingRow):
    """The fields ``docker network ls --format`` exposes (and ``--format json`` prints)."""

    HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "CreatedAt": "CREATED AT"}

    def __init__(self, n: dict[str, Any], trunc: bool) -> None:
        self.ID = n["Id"][:12] if trunc else n["Id"]
        self.Name = n["Name"]
        self.Driver = n["Driver"]
        self.Scope = n["Scope"]
        self.IPv4 = "true" if n.get("EnableIPv4") else "false"
        self.IPv6 = "true" if n.get("EnableIPv6") else "false"
        self.Internal = "true" if n.get("Internal") else "false"
        self.Labels = ",".join(f"{k}={v}" for k, v in (n.get("Labels") or {}).items())
        self.CreatedAt = go_time_rfc3339(str(n.get("Created") or ""))


class VolumeRow(ListingRow):
    """The fields ``docker volume ls --format`` exposes (and ``--format json`` prints)."""

    HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT"}

    def __init__(self, v: dict[str, Any]) -> None:
        self.Name = v["Name"]
        self.Driver = v["Driver"]
        self.Scope = v.get("Scope") or "local"
        self.Mountpoint = v.get("Mountpoint") or ""
        self.Labels = ",".join(f"{k}={val}" for k, val in (v.get("Labels") or {}).items())
        self.Availability = self.Group = self.Links = self.Size = self.Status = "N/A"


def cmd_network(s: Session, a: argparse.Namespace) -> int:
    sub = a.net_cmd
    if sub in ("ls", "list"):
        nets = s.json("GET", "/networks", _filters_query(a.filter))
        rows = [NetworkRow(n, not a.no_trunc) for n in nets]
        if a.quiet:
            s.out.write("".join(r.ID + "\n" for r in rows))
            return 0
        if not is_default_format(a.format):
            return render_format(s, a.format, rows, headers=NetworkRow.HEADERS)
        s.out.write(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], [[r.ID, r.Name, r.Driver, r.Scope] for r in rows]))
        return 0
    if sub == "create":
        ipam: dict[str, Any] = {"Driver": "default", "Options": {}, "Config": []}
        if a.subnet:
            cfg = {"Subnet": a.subnet}
            if a.gateway:
                cfg["Gateway"] = a.gateway
            ipam["Config"] = [cfg]
        body = {
            "Name": a.name,
            "Driver": a.driver,
            "Scope": "",
            "IPAM": ipam,
            "Internal": a.internal,
            "Attachable": a.attachable,
            "Labels": dict(lbl.partition("=")[::2] for lbl in a.label),
        }
        result = s.json("POST", "/networks/create", None, body)
        s.out.write(result["Id"] + "\n")
        return 0
    if sub == "inspect":
        from simulator.client.containers_cmd import cmd_inspect

        return cmd_inspect(s, a, "network")
    if sub in ("rm", "remove"):
        code = 0
        for name in a.networks:
            try:
                s.json("GET", f"/networks/{name}")
                s.json("DELETE", f"/networks/{name}")
                s.out.write(name + "\n")
            except DockerError as err:
                s.err.write(f"Error response from daemon: {err.message}\n")
                code = 1
        if code:  # docker 28 ends with its bare StatusError
            s.err.write("exit status 1\n")
        return code
    if sub in ("connect", "disconnect"):
        conn: dict[str, Any] = {"Container": a.container}
        if sub == "connect":
            conn["EndpointConfig"] = {"Aliases": a.alias or None}
        else:
            conn["Force"] = a.force
        s.json("POST", f"/networks/{a.network}/{sub}", None, conn)
        return 0
    if sub == "prune":
        result = s.json("POST", "/networks/prune")
        names = result.get("NetworksDeleted") or []
        if names:
            s.out.write("Deleted Networks:\n" + "".join(n + "\n" for n in names))
        return 0
    raise CliError(f"unknown command {sub}", 1)


def cmd_volume(s: Session, a: argparse.Namespace) -> int:
    sub = a.vol_cmd
    if sub == "create":
        body: dict[str, Any] = {"Driver": a.driver}
        if a.name:
            body["Name"] = a.name
        if a.label:
            body["Labels"] = dict(lbl.partition("=")[::2] for lbl in a.label)
        result = s.json("POST", "/volumes/create", None, body)
        s.out.write(result["Name"] + "\n")
        return 0
    if sub in ("ls", "list"):
        vols = s.json("GET", "/volumes", _filters_query(a.filter))["Volumes"] or []
        vrows = [VolumeRow(v) for v in vols]
        if a.quiet:
            s.out.write("".join(r.Name + "\n" for r in vrows))
            return 0
        if not is_default_format(a.format):
            return render_format(s, a.format, vrows, headers=VolumeRow.HEADERS)
        s.out.write(table(["DRIVER", "VOLUME NAME"], [[r.Driver, r.Name] for r in vrows]))
        return 0
    if sub == "inspect":
        from simulator.client.containers_cmd import cmd_inspect

        return cmd_inspect(s, a, "volume")
    if sub in ("rm", "remove"):
        code = 0
        for name in a.volumes:
            try:
                s.json("DELETE", f"/volumes/{name}", {"force": 1 if a.force else None})
                s.out.write(name + "\n")
            except DockerError as err:
                s.err.write(f"Error response from daemon: {err.message}\n")
                code = 1
        return code
    if sub == "prune":
        q = {"filters": {"all": {"true": True}}} if a.all else None
        result = s.json("POST", "/volumes/prune", q)
        names = result.get("VolumesDeleted") or []
        if names:
            s.out.write("Deleted Volumes:\n" + "".join(n + "\n" for n in names) + "\n")
        s.out.write("Total reclaimed space: 0B\n")
        return 0
    raise CliError(f"unknown command {sub}", 1)


def cmd_system(s: Session, a: argparse.Namespace) -> int:
    if a.sys_cmd == "df":
        return _system_df(s, a)
    if a.sys_cmd == "info":
        s.out.write(format_info(s.json("GET", "/info")))
        return 0
    raise CliError(f"unknown command {a.sys_cmd}", 1)


class DfRow(ListingRow):
    """A ``docker system df`` line, as ``--format`` sees it."""

    HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}

    def __init__(self, kind: str, total: str, active: str, size: str, reclaimable: str) -> None:
        self.Type, self.TotalCount, self.Active, self.Size, self.Reclaimable = kind, total, active, size, reclaimable


def _reclaimable(reclaimable: int, total: int) -> str:
    """The CLI's RECLAIMABLE cell: a share of the total when there is one."""
    size = human_size(reclaimable, 4)
    return f"{size} ({reclaimable * 100 // total}%)" if total > 0 else size


def _system_df(s: Session, a: argparse.Namespace) -> int:
    df = s.json("GET", "/system/df")
    imgs, cons, vols = df["Images"], df["Containers"], df["Volumes"]
    img_size = int(df["LayersSize"])
    con_size = sum(int(c.get("SizeRw") or 0) for c in cons)
    vol_sizes = [int(v["UsageData"].get("Size") or 0) for v in vols]
    rows = [
        [
            "Images",
            str(len(imgs)),
            str(sum(1 for i in imgs if i.get("Containers", 0) > 0)),
            human_size(img_size, 4),
            _reclaimable(sum(int(i["Size"]) for i in imgs if not i.get("Containers")), img_size),
        ],
        [
            "Containers",
            str(len(cons)),
            str(sum(1 for c in cons if c["State"] == "running")),
            human_size(con_size, 4),
            _reclaimable(sum(int(c.get("SizeRw") or 0) for c in cons if c["State"] != "running"), con_size),
        ],
        [
            "Local Volumes",
            str(len(vols)),
            str(sum(1 for v in vols if v["UsageData"]["RefCount"])),
            human_size(sum(vol_sizes), 4),
            _reclaimable(
                sum(size for v, size in zip(vols, vol_sizes, strict=True) if not v["UsageData"]["RefCount"]),
                sum(vol_sizes),
            ),
        ],
        ["Build Cache", "0", "0", "0B", "0B"],
    ]
    if not is_default_format(a.format):
        return render_format(s, a.format, [DfRow(*row) for row in rows], headers=DfRow.HEADERS)
    s.out.write(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], rows))
    return 0


def format_info(info: dict[str, Any]) -> str:
    """``docker info``'s human-readable report."""
    from simulator.client.units import bytes_size

    plugins = info.get("Plugins") or {}
    lines = [
        "Client:",
        " Context:    embedded",
        " Debug Mode: false",
        "",
        "Server:",
        f" Containers: {info.get('Containers', 0)}",
        f"  Running: {info.get('ContainersRunning', 0)}",
        f"  Paused: {info.get('ContainersPaused', 0)}",
        f"  Stopped: {info.get('ContainersStopped', 0)}",
        f" Images: {info.get('Images', 0)}",
        f" Server Version: {info.get('ServerVersion', '')}",
        f" Storage Driver: {info.get('Driver', '')}",
        f" Logging Driver: {info.get('LoggingDriver', '')}",
        f" Cgroup Driver: {info.get('CgroupDriver', '')}",
        f" Cgroup Version: {info.get('CgroupVersion', '')}",
        " Plugins:",
        f"  Volume: {' '.join(plugins.get('Volume') or [])}",
        f"  Network: {' '.join(plugins.get('Network') or [])}",
        f"  Log: {' '.join(plugins.get('Log') or [])}",
        f" Swarm: {(info.get('Swarm') or {}).get('LocalNodeState', 'inactive')}",
        f" Runtimes: {' '.join(sorted(info.get('Runtimes') or {}))}",
        f" Default Runtime: {info.get('DefaultRuntime', '')}",
        f" Kernel Version: {info.get('KernelVersion', '')}",
        f" Operating System: {info.get('OperatingSystem', '')}",
        f" OSType: {info.get('OSType', '')}",
        f" Architecture: {info.get('Architecture', '')}",
        f" CPUs: {info.get('NCPU', 0)}",
        f" Total Memory: {bytes_size(float(info.get('MemTotal', 0)))}",
        f" Name: {info.get('Name', '')}",
        f" ID: {info.get('ID', '')}",
        f" Docker Root Dir: {info.get('DockerRootDir', '')}",
        f" Debug Mode: {str(info.get('Debug', False)).lower()}",
        f" Experimental: {str(info.get('ExperimentalBuild', False)).lower()}",
        f" Live Restore Enabled: {str(info.get('LiveRestoreEnabled', False)).lower()}",
        "",
    ]
    return "\n".join(lines)


def cmd_version(s: Session, a: argparse.Namespace) -> int:
    import simulator

    v = s.json("GET", "/version")
    if a.format:
        client = {
            "Platform": {"Name": ""},
            "Version": simulator.__version__,
            "ApiVersion": v["ApiVersion"],
            "DefaultAPIVersion": v["ApiVersion"],
            "Os": "linux",
            "Arch": "amd64",
            "Context": "embedded",
        }
        return render_format(s, a.format, [{"Client": client, "Server": v}], headers={})
    s.out.write(
        "Client:\n"
        f" Version:           {simulator.__version__}\n"
        f" API version:       {v['ApiVersion']}\n"
        " OS/Arch:           linux/amd64\n"
        " Context:           embedded\n\n"
        f"Server: {v['Platform']['Name']}\n"
        " Engine:\n"
        f"  Version:          {v['Version']}\n"
        f"  API version:      {v['ApiVersion']} (minimum version {v['MinAPIVersion']})\n"
        f"  OS/Arch:          {v['Os']}/{v['Arch']}\n"
    )
    return 0


def cmd_events(s: Session, a: argparse.Namespace) -> int:
    q: dict[str, Any] = {}
    if a.since:
        q["since"] = api_timestamp(s, a.since)
    if a.until:
        q["until"] = api_timestamp(s, a.until)
    filters = flag_filters(a.filter)
    if filters:
        q["filters"] = filters

    resp = s.call("GET", "/events", q)
    if resp.status >= 400:
        raise DockerError(resp.body.get("message", ""), resp.status)
    s.drain(resp, lambda ev: _print_event(s, a, ev), follow=not a.until)
    return 0


def _print_event(s: Session, a: argparse.Namespace, ev: dict[str, Any]) -> None:
    """One line of ``docker events``: time, type, action, actor id, attributes."""
    if a.format:
        from simulator.client.template import compile_template

        s.out.write(compile_template(a.format).execute(ev) + "\n")
        return
    attrs = ev["Actor"]["Attributes"]
    secs, nanos = divmod(int(ev["timeNano"]), 1_000_000_000)
    import time as _time

    when = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(secs)) + f".{nanos:09d}Z"  # RFC3339NanoFixed
    attr_text = ", ".join(f"{k}={v}" for k, v in sorted(attrs.items()))
    s.out.write(f"{when} {ev['Type']} {ev['Action']} {ev['Actor']['ID']} ({attr_text})\n")
    s.out.flush()
