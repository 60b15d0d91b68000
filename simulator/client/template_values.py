"""Go template values: how ``--format`` prints, encodes and tests data.

Go's ``text/template`` prints with ``fmt`` (``map[a:1]``, ``<nil>``,
shortest floats), the docker CLI's ``json`` function uses ``encoding/json``,
and ``if``/``with`` test Go's zero values. Every stage of the template
(lexer, parser, functions, executor) shares these rules and the
:class:`TemplateError` that carries Go's messages, so they live here, below
all of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


class TemplateError(Exception):
    """A template that does not parse or fails to execute, in Go's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NoValue:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Any = _NoValue()


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` for the text error messages and ``%q`` show."""
    return json.dumps(text, ensure_ascii=False)


def go_type(value: Any) -> str:
    """The Go type name a value stands for, as error messages show it."""
    if value is None or value is NO_VALUE:
        return "interface {}"
    for py, name in ((bool, "bool"), (int, "int"), (float, "float64"), (str, "string")):
        if isinstance(value, py):
            return name
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]string" if value and all(isinstance(v, str) for v in value) else "[]interface {}"
    return str(getattr(type(value), "GO_TYPE", type(value).__name__))


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(f)`` and the decimal exponent of the first one."""
    mant, _, exp = f"{abs(f)!r}".partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = int(exp or 0) + len(whole.lstrip("0")) - 1
    if not whole.strip("0"):
        exponent = int(exp or 0) - (len(frac) - len(frac.lstrip("0"))) - 1
    return digits.rstrip("0") or "0", exponent


def _fixed(digits: str, exp: int) -> str:
    if exp < 0:
        return "0." + "0" * (-exp - 1) + digits
    if len(digits) <= exp + 1:
        return digits + "0" * (exp + 1 - len(digits))
    return digits[: exp + 1] + "." + digits[exp + 1 :]


def go_float(f: float, *, json_style: bool = False) -> str:
    """Format like Go's ``%v`` (``strconv 'g', -1``) or, with json_style, encoding/json."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, exp = _shortest(f)
    # strconv's shortest %g switches to an exponent at 1e+06; encoding/json at 1e21.
    use_e = not (1e-6 <= abs(f) < 1e21) if json_style else exp < -4 or exp >= 6
    if not use_e:
        return sign + _fixed(digits, exp)
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    esign = "-" if exp < 0 else "+"
    width = 1 if json_style else 2
    return f"{sign}{mant}e{esign}{abs(exp):0{width}d}"


def go_print(value: Any) -> str:
    """Go's ``fmt.Sprint`` of one value (``%v``)."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_print(k)}:{go_print(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    return str(value)


def go_json(value: Any) -> str:
    """The docker CLI's ``json`` function: compact, no HTML escaping, keys in order."""
    if value is None or value is NO_VALUE:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else go_float(value, json_style=True)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_json(str(k))}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    marshal = getattr(value, "marshal_json", None)
    if callable(marshal):
        return str(marshal())
    if hasattr(value, "__dataclass_fields__"):
        return go_json({k: getattr(value, k) for k in value.__dataclass_fields__})
    return go_json(str(value))


def truth(value: Any) -> bool:
    """Go's template truth: zero values, nil and empty collections are false."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool | int | float | str | Mapping | list | tuple):
        return bool(value)
    return True
