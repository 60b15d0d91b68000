"""Spans as an indented tree, what ``csim --trace`` prints after a command.

One tree per request: each line shows the hop, what it carried, how long it
took in milliseconds and the few attributes a student looks for (``status``,
``exit_code``, ``error``...). ``rich`` is imported only when a Rich tree is
asked for, so plain-text output keeps the CLI fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

from simulator.trace.span import Span

if TYPE_CHECKING:
    from rich.tree import Tree

__all__ = ["KEY_ATTRS", "render_span_tree", "span_label"]

KEY_ATTRS: tuple[str, ...] = (
    "status",
    "exit_code",
    "error",
    "image",
    "container",
    "bytes",
    "measured_s",  # a real transfer's wall time ...
    "predicted_s",  # ... beside the model's prediction for it
)


def span_label(span: Span) -> str:
    """``[hop] name  1.234 ms  status=201`` for one span."""
    facts = [f"{key}={span.attrs[key]}" for key in KEY_ATTRS if key in span.attrs]
    label = f"[{span.hop}] {span.name}  {span.duration * 1000:.3f} ms"
    return "  ".join([label, *facts])


def _forest(spans: Iterable[Span]) -> list[tuple[str, dict[int | None, list[Span]]]]:
    traces: dict[str, list[Span]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    forest = []
    for trace_id, members in traces.items():
        ids = {s.span_id for s in members}
        children: dict[int | None, list[Span]] = {}
        for span in members:
            # A span whose parent is missing (dropped from the ring) is a root.
            parent = span.parent_id if span.parent_id in ids else None
            children.setdefault(parent, []).append(span)
        for group in children.values():
            group.sort(key=lambda s: (s.start, s.span_id))
        forest.append((trace_id, children))
    return forest


def _walk(children: dict[int | None, list[Span]]) -> list[tuple[int, bool, list[bool], Span]]:
    """Depth-first (depth, is_last, ancestors_last, span) rows, iteratively."""
    rows: list[tuple[int, bool, list[bool], Span]] = []
    roots = children.get(None, [])
    stack: list[tuple[int, bool, list[bool], Span]] = [
        (0, i == len(roots) - 1, [], s) for i, s in reversed(list(enumerate(roots)))
    ]
    while stack:
        depth, last, ancestors, span = stack.pop()
        rows.append((depth, last, ancestors, span))
        kids = children.get(span.span_id, [])
        for i, kid in reversed(list(enumerate(kids))):
            stack.append((depth + 1, i == len(kids) - 1, [*ancestors, last], kid))
    return rows


def _text(spans: Iterable[Span]) -> str:
    out: list[str] = []
    for trace_id, children in _forest(spans):
        out.append(trace_id)
        for _depth, last, ancestors, span in _walk(children):
            prefix = "".join("    " if done else "│   " for done in ancestors)
            out.append(prefix + ("└── " if last else "├── ") + span_label(span))
    return "\n".join(out) + ("\n" if out else "")


@overload
def render_span_tree(spans: Iterable[Span], *, as_text: Literal[True]) -> str: ...
@overload
def render_span_tree(spans: Iterable[Span], *, as_text: Literal[False] = ...) -> Tree: ...


def render_span_tree(spans: Iterable[Span], *, as_text: bool = False) -> Tree | str:
    """Render spans as one tree per request.

    Args:
        spans: spans of one or more traces, in any order.
        as_text: return plain text with box-drawing guides instead of a
            ``rich.tree.Tree`` (no Rich import, no colour).

    Returns:
        A Rich ``Tree`` whose top-level children are the requests, or text.
    """
    if as_text:
        return _text(spans)
    from rich.markup import escape
    from rich.tree import Tree

    top = Tree("trace", hide_root=True, guide_style="dim")
    for trace_id, children in _forest(spans):
        branch = top.add(f"[bold]{escape(trace_id)}[/]")
        nodes: dict[int, Any] = {}
        for _depth, _last, _anc, span in _walk(children):
            parent = nodes.get(span.parent_id) if span.parent_id is not None else None
            owner = parent if parent is not None else branch
            facts = "  ".join(f"{k}={span.attrs[k]}" for k in KEY_ATTRS if k in span.attrs)
            label = f"[cyan]\\[{escape(span.hop)}][/] {escape(span.name)}  [dim]{span.duration * 1000:.3f} ms[/]" + (
                f"  [yellow]{escape(facts)}[/]" if facts else ""
            )
            nodes[span.span_id] = owner.add(label)
    return top
