"""``docker build`` with the legacy builder: one image per instruction, and a cache.

dockerd 20.10's classic builder, step by step, as students see it in its
output (``Step 2/7 : RUN ...``, `` ---> Running in 1a2b``, `` ---> Using
cache``): each stage starts from an image (pulled if missing, an earlier
stage, or ``scratch``); every instruction after FROM ends in a new image
whose parent is the previous one. RUN runs in a real container of the
daemon (created, started, waited for, committed, removed); COPY/ADD build
a layer from the context; the others only change the config, committed
as an empty layer. Before each step the cache looks for an existing image
with the same parent and the same step (see :mod:`.cache`).

Every step is a ``builder`` span whose attributes say what the cache
decided. Public API: :class:`BuildOptions`, :class:`Builder`
(``prepare(context_tar)`` then the SimPy process ``run(parent)``),
:class:`BuildStepError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.daemon.build.build_args import BuildArgs, expand_instruction
from simulator.daemon.build.cache import BuildCache
from simulator.daemon.build.context import BuildContext, read_context
from simulator.daemon.build.copy import CopySource, copy_entries, plan_copy
from simulator.daemon.build.image_fs import ImageFs
from simulator.daemon.build.instructions import (
    Add,
    Arg,
    Copy,
    Instruction,
    Run,
    Stage,
    Workdir,
    parse_instruction,
    parse_stages,
)
from simulator.daemon.build.parser import parse_dockerfile
from simulator.daemon.build.run_config import (
    apply_metadata,
    comment_cmd,
    env_dict,
    new_run_config,
    shell_of,
    stored_config,
)
from simulator.daemon.build.shell_lex import ShellExpansionError, ShellLex
from simulator.daemon.core import Proc
from simulator.model.digest import short_id
from simulator.model.errors import DockerError, InvalidParameter
from simulator.model.image import ImageRecord
from simulator.model.layer import LayerEntry, build_layer_tar
from simulator.model.reference import Reference, normalize
from simulator.trace.tracer import SpanContext

if TYPE_CHECKING:
    from simulator.daemon.daemon import Daemon

Emit = Callable[[dict[str, Any]], None]


@dataclass
class BuildOptions:
    """The query of ``POST /build``.

    Attributes:
        tags: ``t`` values (``demo:1``).
        dockerfile: path of the Dockerfile inside the context.
        build_args: ``--build-arg`` values.
        no_cache: ``--no-cache``.
        target: ``--target`` stage name.
        labels: ``--label`` values added to the final image.
        quiet: ``-q``: only the image ID is streamed.
        rm: remove intermediate containers after a successful step.
        force_rm: remove them after a failed step too.
        pull: always pull base images.
    """

    tags: tuple[str, ...] = ()
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    rm: bool = True
    force_rm: bool = False
    pull: bool = False


class BuildStepError(DockerError):
    """A failed RUN: Docker's message and the command's exit code (the CLI exits with it)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message, 500)
        self.code = code


@dataclass
class _StageState:
    image: ImageRecord | None
    run_config: dict[str, Any]
    args: BuildArgs
    extra: dict[str, Any] = field(default_factory=dict)


class Builder:
    """One build: a parsed Dockerfile, its context, and the images it makes.

    Args:
        daemon: the daemon whose containers, images and runtime the build uses.
        options: the build's options.
        emit: receives Docker's JSON messages.
    """

    def __init__(self, daemon: Daemon, options: BuildOptions, emit: Emit) -> None:
        self.d = daemon
        self.options = options
        self._emit = emit
        self.context = BuildContext({})
        self.stages: list[Stage] = []
        self.lex = ShellLex()
        self.args = BuildArgs(options.build_args)
        self.tags: list[Reference] = []
        self.total = 0
        self.step = 0
        self.cache = BuildCache(daemon.images)
        self.stage_images: dict[str, ImageRecord | None] = {}
        self._fs: dict[str, ImageFs] = {}
        self.warnings: list[str] = []

    # -- before anything streams ----------------------------------------------------
    def prepare(self, context_tar: bytes) -> None:
        """Read the context and the Dockerfile; check tags and target.

        Raises:
            DockerError: a 400 that the API answers before streaming.
        """
        for tag in self.options.tags:
            ref = normalize(tag)
            if ref.digest:
                raise InvalidParameter(f"invalid tag {tag!r}: refusing to create a tag with a digest")
            self.tags.append(ref)
        self.context = read_context(context_tar)
        text = self.context.read(self.options.dockerfile)
        if text is None:
            raise InvalidParameter(f"Cannot locate specified Dockerfile: {self.options.dockerfile}")
        result = parse_dockerfile(text)
        self.warnings = result.warning_lines()
        self.lex = ShellLex(result.escape_token)
        stages, meta_args = parse_stages(result)
        if not stages:
            raise InvalidParameter("file with no instructions")
        for arg in meta_args:
            self.args.add_meta_arg(self._expand(arg, self.args.meta_env()))  # type: ignore[arg-type]
        if self.options.target:
            names = [s.name for s in stages]
            if self.options.target.lower() not in names:
                raise InvalidParameter(f"failed to reach build target {self.options.target} in Dockerfile")
            stages = stages[: names.index(self.options.target.lower()) + 1]
        self.stages = stages
        self.total = sum(1 + len(s.instructions) for s in stages)

    # -- output ---------------------------------------------------------------------
    def emit(self, text: str) -> None:
        if not self.options.quiet:
            self._emit({"stream": text})

    def _expand(self, instruction: Instruction, env: dict[str, str]) -> Instruction:
        try:
            return expand_instruction(instruction, self.lex, env)
        except ShellExpansionError as err:
            raise InvalidParameter(str(err)) from None

    # -- the build --------------------------------------------------------------------
    def run(self, parent: SpanContext) -> Proc:
        """Build every stage; tag the result; returns the final image id."""
        d = self.d
        ctx = d.span("ImageBuild", parent, tags=[str(t) for t in self.tags], steps=self.total)
        try:
            for line in self.warnings:
                self.emit(line + "\n")
            state: _StageState | None = None
            for stage in self.stages:
                state = yield from self._stage(ctx, stage)
            assert state is not None
            final = state.image
            if final is None:
                raise InvalidParameter("No image was generated. Is your Dockerfile empty?")
            if self.options.labels:
                final = self._label_final(state)
        except DockerError as err:
            d.end(ctx, error=err.message, status=err.status)
            raise
        unused = self.args.unused_warning()
        if unused:
            self.emit(unused + "\n")
        if self.options.quiet:
            self._emit({"stream": final.id + "\n"})
        self.emit(f"Successfully built {final.short_id}\n")
        for ref in self.tags:
            previous = d.images.set_ref(ref, final.id)
            d.event("image", "tag", final.id, name=ref.familiar_string())
            if previous and previous != final.id:
                d.event("image", "untag", previous, name=previous)
            self.emit(f"Successfully tagged {ref.familiar_string()}\n")
        d.end(ctx, image=final.id)
        return final.id

    def _label_final(self, state: _StageState) -> ImageRecord:
        assert state.image is not None
        labels = {**(state.run_config.get("Labels") or {}), **self.options.labels}
        state.run_config["Labels"] = labels
        state.run_config["Image"] = state.image.id
        comment = "LABEL " + " ".join(f"{k}={v}" for k, v in sorted(self.options.labels.items()))
        cmd = comment_cmd(state.run_config, comment)
        return self.d.commit_image(
            state.image,
            None,
            stored_config(state.run_config),
            stored_config({**state.run_config, "Cmd": cmd}),
            " ".join(cmd),
        )

    def _header(self, ctx: SpanContext, text: str) -> SpanContext:
        self.step += 1
        label = f"Step {self.step}/{self.total} : {text}"
        self.emit(label)
        self.emit("\n")
        return self.d.tracer.start("builder", label, ctx, step=self.step)

    def _stage(self, ctx: SpanContext, stage: Stage) -> Proc:
        span = self._header(ctx, stage.from_.original)
        try:
            name = self.lex.process_word(stage.base_name, self.args.meta_env())
        except ShellExpansionError as err:
            raise InvalidParameter(str(err)) from None
        try:
            image = yield from self._base_image(span, name)
            config = dict(image.container_config) if image is not None else {}
            state = _StageState(image, new_run_config(config), self.args.for_stage())
            state.run_config["Image"] = image.id if image is not None else ""
            triggers = list(config.get("OnBuild") or [])
            if triggers:
                word = "trigger" if len(triggers) == 1 else "triggers"
                self.emit(f"# Executing {len(triggers)} build {word}\n")
                for expression in triggers:
                    trigger = parse_instruction(parse_dockerfile(expression).ast.children[0])
                    yield from self._dispatch(span, state, trigger)
        except DockerError as err:
            self.d.tracer.end(span, error=err.message)
            raise
        self.emit(f" ---> {short_id(state.image.id) if state.image else ''}\n")
        self.d.tracer.end(span, image=state.image.id if state.image else "scratch")
        for instruction in stage.instructions:
            span = self._header(ctx, instruction.original)
            try:
                cache = yield from self._dispatch(span, state, instruction)
            except DockerError as err:
                self.d.tracer.end(span, error=err.message)
                raise
            image_id = state.image.id if state.image is not None else ""
            self.emit(f" ---> {short_id(image_id) if image_id else ''}\n")
            self.d.tracer.end(span, cache=cache, image=image_id)
        self.stage_images[str(stage.index)] = state.image
        if stage.name:
            self.stage_images[stage.name] = state.image
        if state.image is not None:
            self._emit({"aux": {"ID": state.image.id}})
        return state

    def _base_image(self, span: SpanContext, name: str) -> Proc:
        if name.lower() == "scratch":
            return None
        if name.lower() in self.stage_images:
            return self.stage_images[name.lower()]
        image = yield from self._image(span, name)
        return image

    def _image(self, span: SpanContext, name: str) -> Proc:
        d = self.d
        found = None if self.options.pull else d.images.find(name)
        if found is not None:
            return found
        ref = normalize(name)
        emit: Emit = (lambda msg: None) if self.options.quiet else self._emit
        yield from d.pull_image(span, ref, emit)
        return d.images.get(str(ref))

    # -- one instruction --------------------------------------------------------------
    def _dispatch(self, span: SpanContext, state: _StageState, instruction: Instruction) -> Proc:
        """Run one instruction on ``state``; returns the cache decision."""
        yield self.d.work(self.d.params.op)
        env = state.args.expansion_env(env_dict(state.run_config))
        expanded = self._expand(instruction, env)
        if isinstance(expanded, Arg):
            state.args.add_arg(expanded)
        if isinstance(expanded, Run):
            decision = yield from self._run(span, state, expanded)
            return decision
        if isinstance(expanded, Copy | Add):
            decision = yield from self._copy(span, state, expanded)
            return decision
        comment = apply_metadata(state.run_config, expanded, state.extra)
        cmd = comment_cmd(state.run_config, comment, split=not isinstance(expanded, Workdir))
        layer: list[LayerEntry] = []
        if isinstance(expanded, Workdir) and state.image is not None:
            workdir = str(state.run_config["WorkingDir"])
            if not self._image_fs(state.image).exists(workdir):
                layer = [LayerEntry.directory(workdir)]
        decision = yield from self._commit_step(span, state, cmd, cmd, layer)
        return decision

    def _probe(self, state: _StageState, container_config: dict[str, Any]) -> ImageRecord | None:
        if self.options.no_cache:
            return None
        parent = state.image.id if state.image is not None else ""
        return self.cache.probe(parent, container_config)

    def _use_cache(self, state: _StageState, hit: ImageRecord) -> str:
        self.emit(" ---> Using cache\n")
        state.image = hit
        state.run_config["Image"] = hit.id
        return "hit"

    def _commit_step(
        self,
        span: SpanContext,
        state: _StageState,
        cmd: list[str],
        run_cmd: list[str],
        layer: list[LayerEntry],
    ) -> Proc:
        """A config-only step (or WORKDIR): a container is created and committed, never started."""
        container_config = stored_config({**state.run_config, "Cmd": cmd})
        hit = self._probe(state, container_config)
        if hit is not None:
            return self._use_cache(state, hit)
        cid = ""
        if state.image is not None:
            cid = yield from self._create(span, state, run_cmd, {})
        tar = build_layer_tar(layer) if layer else None
        self._commit(state, tar, container_config, " ".join(cmd), cid)
        if cid:
            yield from self._remove(span, cid)
        return "disabled" if self.options.no_cache else "miss"

    def _commit(
        self,
        state: _StageState,
        tar: bytes | None,
        container_config: dict[str, Any],
        created_by: str,
        cid: str,
    ) -> None:
        config = stored_config(state.run_config)
        image = self.d.commit_image(
            state.image,
            tar,
            config,
            container_config,
            created_by,
            container_id=cid,
            author=str(state.extra.get("author") or ""),
        )
        self.cache.remember(image)
        state.image = image
        state.run_config["Image"] = image.id

    def _create(self, span: SpanContext, state: _StageState, argv: list[str], build_env: dict[str, str]) -> Proc:
        assert state.image is not None
        body = {
            "Image": state.image.id,
            "Cmd": argv,
            "Entrypoint": [""],
            "Env": [f"{k}={v}" for k, v in build_env.items()],
            "HostConfig": {"NetworkMode": "default"},
        }
        result = yield from self.d.create_container(span, body)
        cid = str(result["Id"])
        self.emit(f" ---> Running in {cid[:12]}\n")
        return cid

    def _remove(self, span: SpanContext, cid: str) -> Proc:
        if self.options.rm or self.options.force_rm:
            self.emit(f"Removing intermediate container {cid[:12]}\n")
            yield from self.d.remove_container(span, cid, force=True)

    def _run(self, span: SpanContext, state: _StageState, run: Run) -> Proc:
        d = self.d
        argv = list(run.cmd)
        if run.shell_form:
            script = argv[0] if argv else ""
            for doc in run.heredocs:
                script += "\n" + doc.content + doc.name
            argv = [*shell_of(state.run_config), script]
        build_env = state.args.run_env(env_dict(state.run_config))
        save_cmd = argv
        if build_env:
            pairs = sorted(f"{k}={v}" for k, v in build_env.items())
            save_cmd = [f"|{len(pairs)}", *pairs, *argv]
        container_config = stored_config({**state.run_config, "Cmd": save_cmd})
        hit = self._probe(state, container_config)
        if hit is not None:
            return self._use_cache(state, hit)
        if state.image is None:
            raise DockerError(
                "failed to create shim task: OCI runtime create failed: runc create failed: unable "
                'to start container process: exec: "/bin/sh": stat /bin/sh: no such file or '
                "directory: unknown"
            )
        cid = yield from self._create(span, state, argv, build_env)
        container = d.containers.get(cid)

        def forward(entry: Any) -> None:
            if entry is not None:
                self.emit(entry.data.decode("utf-8", "replace"))

        stop = d.listen(cid, forward)
        try:
            yield from d.start_container(span, cid)
            code = yield d.wait_event(container, "not-running")
        finally:
            stop()
        if code != 0:
            if self.options.force_rm:
                yield from d.remove_container(span, cid, force=True)
            raise BuildStepError(f"The command '{' '.join(argv)}' returned a non-zero code: {code}", int(code))
        tar = d.rt.export_upper(cid)
        self._commit(state, tar, container_config, " ".join(save_cmd), cid)
        yield from self._remove(span, cid)
        return "disabled" if self.options.no_cache else "miss"

    def _copy_source(self, span: SpanContext, from_stage: str) -> Proc:
        if not from_stage:
            return CopySource(context=self.context)
        key = from_stage.lower()
        if key in self.stage_images:
            image = self.stage_images[key]
        else:
            try:
                image = yield from self._image(span, from_stage)
            except DockerError as err:
                raise type(err)(f"invalid from flag value {from_stage}: {err.message}") from None
        return CopySource(image=self._image_fs(image) if image is not None else ImageFs())

    def _copy(self, span: SpanContext, state: _StageState, instruction: Copy | Add) -> Proc:
        name = instruction.name
        from_stage = instruction.from_stage if isinstance(instruction, Copy) else ""
        source = yield from self._copy_source(span, from_stage)
        workdir = str(state.run_config.get("WorkingDir") or "/")
        try:
            plan = plan_copy(name, instruction.sources, instruction.contents, instruction.dest, workdir, source)
        except DockerError as err:
            if err.message.startswith(f"{name} failed") or "When using" in err.message:
                raise
            raise type(err)(f"{name} failed: {err.message}") from None
        comment = f"{name} {plan.checksum} in {instruction.dest} "
        cmd = comment_cmd(state.run_config, comment, split=False)
        container_config = stored_config({**state.run_config, "Cmd": cmd})
        span.attrs["checksum"] = plan.checksum
        hit = self._probe(state, container_config)
        if hit is not None:
            return self._use_cache(state, hit)
        parent_fs = self._image_fs(state.image) if state.image is not None else ImageFs()
        entries = copy_entries(name, plan, source, parent_fs, instruction.chown, instruction.chmod)
        yield self.d.work(self.d.params.op)
        self._commit(state, build_layer_tar(entries), container_config, " ".join(cmd), "")
        return "disabled" if self.options.no_cache else "miss"

    def _image_fs(self, image: ImageRecord) -> ImageFs:
        fs = self._fs.get(image.id)
        if fs is None:
            fs = ImageFs.from_layers(image.diff_ids, self.d.images.layer_tar)
            self._fs[image.id] = fs
        return fs
