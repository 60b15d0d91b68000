"""Spans as a Mermaid ``sequenceDiagram``: the trace as students draw it.

Participants are the hops in architecture order (CLI, REST API, dockerd...).
Each span is one arrow from its parent's hop to its own hop, labelled with the
span's name; after a span's children, a dashed return arrow goes back,
labelled with its ``status`` (or ``error``) if it has one, else its duration.
A request's root span becomes a note over its hop.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.trace.export_perfetto import HOP_LABELS, hop_index
from simulator.trace.span import Span

__all__ = ["escape_mermaid", "to_mermaid"]

# Characters Mermaid's sequence grammar treats specially inside message text:
# ';' ends a statement, '#' starts an entity, ':' separates the label, '<' and
# '>' are read as HTML, '%' can open a comment. Mermaid decodes "#NN;" codes.
_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    ":": "#58;",
    "<": "#60;",
    ">": "#62;",
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
}


def escape_mermaid(text: str) -> str:
    """Make ``text`` safe as a Mermaid message or note (one line, no specials)."""
    text = " ".join(text.split())  # newlines and tabs would end the statement
    return "".join(_ESCAPES.get(ch, ch) for ch in text) or " "


def _return_label(span: Span) -> str:
    for key in ("status", "error", "exit_code"):
        if key in span.attrs and span.attrs[key] not in (None, ""):
            return str(span.attrs[key])
    return f"{span.duration * 1000:.3f} ms"


def to_mermaid(spans: Iterable[Span], *, returns: bool = True, all_hops: bool = False) -> str:
    """Render spans as Mermaid sequence-diagram source.

    Args:
        spans: one or more traces; spans are grouped per trace, traces in
            order of first appearance, children in start order.
        returns: add a dashed return arrow for every span that crossed hops.
        all_hops: declare every hop, not only the ones that appear.

    Returns:
        The diagram text, ending with a newline.
    """
    spans = list(spans)
    used = {s.hop for s in spans}
    hops = sorted(used | (set(HOP_LABELS) if all_hops else set()), key=lambda h: (hop_index(h), h))
    lines = ["sequenceDiagram"]
    for hop in hops:
        lines.append(f"    participant {hop} as {escape_mermaid(HOP_LABELS.get(hop, hop))}")

    traces: dict[str, list[Span]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    for members in traces.values():
        ids = {s.span_id: s for s in members}
        children: dict[int | None, list[Span]] = {}
        for span in members:
            parent = span.parent_id if span.parent_id in ids else None
            children.setdefault(parent, []).append(span)
        for group in children.values():
            group.sort(key=lambda s: (s.start, s.span_id))
        for root in children.get(None, []):
            _emit(root, None, children, lines, returns)
    return "\n".join(lines) + "\n"


def _emit(
    span: Span,
    parent: Span | None,
    children: dict[int | None, list[Span]],
    lines: list[str],
    returns: bool,
) -> None:
    # Iterative depth-first walk: deep traces must not hit the recursion limit.
    stack: list[tuple[Span, Span | None, bool]] = [(span, parent, False)]
    while stack:
        node, up, done = stack.pop()
        label = escape_mermaid(node.name)
        if done:
            if up is not None and up.hop != node.hop:
                lines.append(f"    {node.hop}-->>{up.hop}: {escape_mermaid(_return_label(node))}")
            continue
        if up is None:
            lines.append(f"    Note over {node.hop}: {escape_mermaid(node.trace_id)} {label}")
        else:
            lines.append(f"    {up.hop}->>{node.hop}: {label}")
        if returns:
            stack.append((node, up, True))
        for child in reversed(children.get(node.span_id, [])):
            stack.append((child, node, False))
