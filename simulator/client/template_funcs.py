"""The functions a ``--format`` template can call.

Go's ``text/template`` built-ins (``and``, ``or``, ``not``, ``len``,
``index``, ``print``, ``printf``, ``eq`` and the comparisons) and the ones the
docker CLI adds (``json``, ``split``, ``join``, ``title``, ``lower``,
``upper``, ``pad``, ``truncate``), each with the parameter types Go checks
before the call and the errors Go reports from inside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.client.template_values import NO_VALUE, go_float, go_json, go_print, go_quote, go_type, truth


class CallError(Exception):
    """A function failed: reported as ``error calling NAME: ...``."""


@dataclass(frozen=True, slots=True)
class Func:
    fn: Callable[..., Any]
    params: tuple[str, ...]  # "string", "int", "[]string" or "any"
    variadic: bool = False  # the last param repeats


def _title(s: str) -> str:
    out, prev = [], " "
    for ch in s:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_") else ch)
        prev = ch
    return "".join(out)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None or item is NO_VALUE:
            raise CallError("index of untyped nil")
        if isinstance(item, Mapping):
            item = item.get(key, NO_VALUE)
        elif isinstance(item, list | tuple | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise CallError(f"cannot index slice/array with type {go_type(key)}")
            if not 0 <= key < len(item):
                raise CallError(f"index out of range: {key}")
            item = item[key] if not isinstance(item, str) else item.encode()[key]
        else:
            raise CallError(f"can't index item of type {go_type(item)}")
    return item


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, Mapping | list | tuple):
        return len(item)
    raise CallError(f"len of type {go_type(item)}")


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    kinds = (bool, int, float, str)
    ka = next((k for k in kinds if isinstance(a, k)), None)
    kb = next((k for k in kinds if isinstance(b, k)), None)
    if ka is None or kb is None:
        if a is None or b is None or a is NO_VALUE or b is NO_VALUE:
            return a, b
        raise CallError("invalid type for comparison")
    if ka is not kb:
        raise CallError("incompatible types for comparison")
    return a, b


def _eq(a: Any, *others: Any) -> bool:
    if not others:
        raise CallError("missing argument for comparison")
    return any(x == y for x, y in (_comparable(a, b) for b in others))


def _less(a: Any, b: Any) -> bool:
    x, y = _comparable(a, b)
    if isinstance(x, bool) or x is None or y is None:
        raise CallError("invalid type for comparison")
    return bool(x < y)


def _sprint(*args: Any) -> str:
    out = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_print(arg))
    return "".join(out)


_VERB_RE = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])")


def _sprintf(fmt: str, *args: Any) -> str:
    """Go's ``fmt.Sprintf`` for the common verbs (v s d q x X f e g t c)."""
    queue = list(args)

    def one(m: re.Match[str]) -> str:
        flags, width, prec, verb = m.groups()
        if verb == "%":
            return "%"
        if not queue:
            return f"%!{verb}(MISSING)"
        arg = queue.pop(0)
        text = _verb(verb, arg, prec)
        if width:
            pad = "0" if "0" in flags and "-" not in flags and verb in "dfegxX" else " "
            align = "<" if "-" in flags else ">"
            if pad == "0" and text.startswith("-"):
                text = "-" + text[1:].rjust(int(width) - 1, "0")
            text = format(text, f"{pad}{align}{width}")
        if "+" in flags and verb in "dfeg" and not text.lstrip().startswith("-"):
            text = "+" + text
        return text

    out = _VERB_RE.sub(one, fmt)
    if queue:
        out += "%!(EXTRA " + ", ".join(f"{go_type(a)}={go_print(a)}" for a in queue) + ")"
    return out


def _verb(verb: str, arg: Any, prec: str | None) -> str:
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    if arg is None:
        return "<nil>" if verb == "v" else f"%!{verb}(<nil>)"
    if verb in "sv":
        text = go_print(arg)
        return text[: int(prec or 0)] if prec is not None and verb == "s" else text
    if verb == "d" and is_int:
        return str(arg)
    if verb == "q" and isinstance(arg, str):
        return go_quote(arg)
    if verb in "xX" and (is_int or isinstance(arg, str)):
        text = format(arg, "x") if is_int else arg.encode().hex()
        return text.upper() if verb == "X" else text
    if verb in "feg" and isinstance(arg, float | int) and not isinstance(arg, bool):
        if verb == "g" and prec is None:
            return go_float(float(arg))
        return format(float(arg), f".{6 if prec is None else int(prec or 0)}{verb}")
    if verb == "t" and isinstance(arg, bool):
        return go_print(arg)
    if verb == "c" and is_int:
        return chr(arg)
    return f"%!{verb}({go_type(arg)}={go_print(arg)})"


def _split(s: str, sep: str) -> list[str]:
    return list(s) if sep == "" else s.split(sep)


def _pad(s: str, prefix: int, suffix: int) -> str:
    return s and " " * prefix + s + " " * suffix


def _same(s: Any, *_: Any) -> Any:
    return s


FUNCS: dict[str, Func] = {
    # Go's text/template built-ins.
    "and": Func(lambda *a: a, ("any", "any"), variadic=True),
    "or": Func(lambda *a: a, ("any", "any"), variadic=True),
    "not": Func(lambda a: not truth(a), ("any",)),
    "len": Func(_len, ("any",)),
    "index": Func(_index, ("any", "any"), variadic=True),
    "print": Func(_sprint, ("any",), variadic=True),
    "println": Func(lambda *a: " ".join(go_print(x) for x in a) + "\n", ("any",), variadic=True),
    "printf": Func(_sprintf, ("string", "any"), variadic=True),
    "eq": Func(_eq, ("any", "any"), variadic=True),
    "ne": Func(lambda a, b: not _eq(a, b), ("any", "any")),
    "lt": Func(_less, ("any", "any")),
    "le": Func(lambda a, b: _less(a, b) or _eq(a, b), ("any", "any")),
    "gt": Func(lambda a, b: not (_less(a, b) or _eq(a, b)), ("any", "any")),
    "ge": Func(lambda a, b: not _less(a, b), ("any", "any")),
    # The docker CLI's additions (cli/templates).
    "json": Func(go_json, ("any",)),
    "split": Func(_split, ("string", "string")),
    "join": Func(lambda items, sep: sep.join(items), ("[]string", "string")),
    "title": Func(_title, ("string",)),
    "lower": Func(str.lower, ("string",)),
    "upper": Func(str.upper, ("string",)),
    "pad": Func(_pad, ("string", "int", "int")),
    "truncate": Func(lambda s, n: s if len(s) < n else s[:n], ("string", "int")),
}
# For the header row of a table the CLI swaps these in, so "{{upper .Name}}" keeps "NAME".
HEADER_FUNCS: dict[str, Func] = {
    **FUNCS,
    **{n: Func(_same, FUNCS[n].params) for n in ("json", "title", "lower", "upper")},
    **{n: Func(_same, ("string", "any")) for n in ("split", "join", "truncate")},
}
VARIADIC_MIN = {"and": 1, "or": 1, "index": 1, "print": 0, "println": 0, "printf": 1, "eq": 1}
