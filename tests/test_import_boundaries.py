"""Only simulator.tui may import Textual, and the CLI must start without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import simulator

ROOT = Path(simulator.__file__).parent


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(ROOT)], prefix="simulator."):
        if info.name.startswith("simulator.tui") or info.name == "simulator.__main__":
            continue
        names.append(info.name)
    return names


def test_no_module_outside_tui_mentions_textual() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "tui" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "import textual" in text or "from textual" in text:
            offenders.append(str(path))
    assert offenders == []


def test_headless_modules_do_not_load_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as err:\n"
        "        if 'textual' in str(err):\n"
        "            raise\n"
        "assert 'textual' not in sys.modules, 'a headless module imported textual'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_model_imports_only_the_standard_library() -> None:
    allowed_prefixes = ("simulator.model", "__future__")
    third_party = {"simpy", "networkx", "rich", "textual", "aiohttp", "yaml", "jsonschema"}
    for path in (ROOT / "model").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                module = stripped.split()[1].split(".")[0]
                assert module not in third_party, f"{path.name}: {stripped}"
                if stripped.startswith("from simulator"):
                    assert stripped.split()[1].startswith(allowed_prefixes), f"{path.name}: {stripped}"
