"""The hop diagram: a networkx graph of the hops, laid out on a character grid.

The architecture a student learns is a chain (CLI → REST API → dockerd →
containerd → shim → runc → kernel) with side branches (registry, builder).
``hop_graph()`` states it once; ``FlowLayout`` folds the longest chain into a
serpentine that fits the panel (one row left to right, one turning box, one
row right to left, as on TUI.md's sketch), puts side hops in the free cells,
and routes every edge orthogonally (framed boxes when there is room, one-row
``[ CLI ]`` boxes on a short panel). ``render_flow`` draws boxes, edges, the
lit components and the packets onto a Rich ``Text``. A span whose parent hop
is not adjacent to its own travels the graph's shortest path. Pure Rich and
networkx: no Textual here, so it is unit-tested directly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
from rich.style import Style
from rich.text import Text

from simulator.trace.export_perfetto import HOP_LABELS
from simulator.trace.span import HOPS

__all__ = [
    "HOP_TITLES",
    "MIN_HEIGHT",
    "TALL_HEIGHT",
    "TRACE_COLOURS",
    "FlowLayout",
    "Packet",
    "hop_graph",
    "render_flow",
]

HOP_TITLES: dict[str, str] = HOP_LABELS  # the same names the trace exports use

TRACE_COLOURS: tuple[str, ...] = (
    "#ffb000",
    "#2ec4b6",
    "#ff5c8a",
    "#a06cd5",
    "#4ea8de",
    "#80b918",
)
"""One colour per concurrent request (cycled)."""

_EDGES: tuple[tuple[str, str, str], ...] = (
    ("cli", "api", "HTTP"),
    ("api", "dockerd", "call"),
    ("dockerd", "containerd", "gRPC"),
    ("containerd", "shim", "ttrpc"),
    ("shim", "runc", "exec"),
    ("runc", "kernel", "syscall"),
    ("dockerd", "registry", "HTTPS"),
    ("dockerd", "builder", "call"),
)


@lru_cache(maxsize=1)
def hop_graph() -> nx.Graph:
    """The hops as nodes (``label`` attribute) and who talks to whom as edges."""
    graph = nx.Graph()
    for hop in HOPS:
        graph.add_node(hop, label=HOP_TITLES[hop])
    for a, b, kind in _EDGES:
        graph.add_edge(a, b, kind=kind)
    return graph


@dataclass(frozen=True, slots=True)
class Box:
    hop: str
    left: int
    top: int
    width: int
    height: int = 3
    """3 for a framed box; 1 for the slim ``[ CLI ]`` boxes of a short panel."""

    @property
    def right(self) -> int:
        return self.left + self.width - 1

    @property
    def bottom(self) -> int:
        return self.top + self.height - 1

    @property
    def middle(self) -> int:
        """The row horizontal edges meet the box on."""
        return self.top + self.height // 2

    @property
    def centre(self) -> int:
        return self.left + self.width // 2


@dataclass(frozen=True, slots=True)
class Packet:
    """A labelled dot travelling from one hop to another.

    Attributes:
        source, target: hops; ``source`` None means the packet is the root
            request appearing at ``target``.
        progress: 0.0 (leaving ``source``) .. 1.0 (arrived).
        label: what it carries, e.g. ``POST /containers/create``.
        colour: its request's colour.
    """

    source: str | None
    target: str
    progress: float
    label: str
    colour: str


def _serpentine(chain: list[str]) -> dict[str, tuple[int, int]]:
    """Grid cells ``(row, col)`` for a chain: right, down one, then left."""
    per_row = max(1, (len(chain) - 1) // 2)
    cells: dict[str, tuple[int, int]] = {}
    for i, hop in enumerate(chain):
        if i < per_row:
            cells[hop] = (0, i)
        elif i == per_row:
            cells[hop] = (1, per_row - 1)
        else:
            cells[hop] = (2, max(0, per_row - 1 - (i - per_row - 1)))
    return cells


TALL_HEIGHT = 11
"""Rows the three rows of framed boxes need (3 × 3 + two gaps); below it boxes are slim."""
MIN_HEIGHT = 5
"""Rows the three rows of slim boxes need (3 × 1 + two gaps)."""


class FlowLayout:
    """Boxes and edge routes for a canvas of ``width`` × ``height`` cells.

    With at least ``TALL_HEIGHT`` rows the boxes are framed (three rows high);
    below that (an 80×24 terminal with a lesson open) they are one row high, so
    the whole chain from CLI to kernel still shows instead of its top half.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = max(30, width)
        self.height = max(MIN_HEIGHT, height)
        self.box_height = 3 if self.height >= TALL_HEIGHT else 1
        graph = hop_graph()
        chain: list[str] = nx.shortest_path(graph, "cli", "kernel")
        cells = _serpentine(chain)
        self.columns = max(col for _, col in cells.values()) + 1
        free = [(1, c) for c in range(self.columns) if (1, c) not in cells.values()]
        side = sorted(
            (h for h in graph.nodes if h not in cells),
            key=lambda h: (nx.shortest_path_length(graph, "cli", h), HOPS.index(h)),
        )
        for hop, cell in zip(side, free, strict=False):
            cells[hop] = cell
        self.cells = cells
        self.gap = max(1, min(3, (self.height - 3 * self.box_height) // 2))
        self.boxes: dict[str, Box] = {}
        for hop, (row, col) in cells.items():
            label = HOP_TITLES[hop]
            width = len(label) + 4
            centre = (2 * col + 1) * self.width // (2 * self.columns)
            left = max(0, min(self.width - width, centre - width // 2))
            self.boxes[hop] = Box(hop, left, row * (self.box_height + self.gap), width, self.box_height)
        self.routes: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._paths: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for a, b in graph.edges:
            if a in self.boxes and b in self.boxes:
                path = self._route(self.boxes[a], self.boxes[b])
                self.routes[(a, b)] = path
                self.routes[(b, a)] = path[::-1]

    def _route(self, a: Box, b: Box) -> list[tuple[int, int]]:
        """Cells ``(x, y)`` from box ``a``'s edge to box ``b``'s edge."""
        if a.top == b.top:
            y = a.middle
            if a.left < b.left:
                return [(x, y) for x in range(a.right + 1, b.left)]
            return [(x, y) for x in range(a.left - 1, b.right, -1)]
        if a.centre == b.centre or (a.left <= b.centre <= a.right and b.left <= a.centre <= b.right):
            x = b.centre
            if a.top < b.top:
                return [(x, y) for y in range(a.bottom + 1, b.top)]
            return [(x, y) for y in range(a.top - 1, b.bottom, -1)]
        # Different row and column: down (or up) into the gap, across, then on.
        down = a.top < b.top
        x0 = a.left + 2 if b.centre < a.centre else a.right - 2
        y_start = a.bottom + 1 if down else a.top - 1
        y_gap = y_start + ((self.gap - 1) // 2 if down else -((self.gap - 1) // 2))
        end_y = b.top - 1 if down else b.bottom + 1
        step = 1 if down else -1
        path = [(x0, y) for y in range(y_start, y_gap + step, step)]
        dx = 1 if b.centre > x0 else -1
        path += [(x, y_gap) for x in range(x0 + dx, b.centre + dx, dx)]
        path += [(b.centre, y) for y in range(y_gap + step, end_y + step, step)]
        return path

    def path(self, source: str, target: str) -> list[tuple[int, int]]:
        """The cells a packet crosses from ``source`` to ``target`` (via the graph)."""
        if (source, target) in self.routes:
            return self.routes[(source, target)]
        if source not in self.boxes or target not in self.boxes or source == target:
            return []
        if (source, target) not in self._paths:
            hops: list[str] = nx.shortest_path(hop_graph(), source, target)
            cells: list[tuple[int, int]] = []
            for a, b in itertools.pairwise(hops):
                cells += self.routes.get((a, b), [])
            self._paths[(source, target)] = cells
        return self._paths[(source, target)]


class _Canvas:
    def __init__(self, width: int, height: int, base: Style) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[Style]] = [[base] * width for _ in range(height)]

    def copy(self) -> _Canvas:
        twin = _Canvas.__new__(_Canvas)
        twin.width, twin.height = self.width, self.height
        twin.chars = [row[:] for row in self.chars]
        twin.styles = [row[:] for row in self.styles]
        return twin

    def put(self, x: int, y: int, char: str, style: Style) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.chars[y][x] = char
            self.styles[y][x] = style

    def write(self, x: int, y: int, text: str, style: Style, only_blank: bool = False) -> None:
        for i, char in enumerate(text):
            inside = 0 <= x + i < self.width and 0 <= y < self.height
            if only_blank and inside and self.chars[y][x + i] != " ":
                return
            self.put(x + i, y, char, style)

    def rows(self) -> list[list[tuple[str, Style]]]:
        """Each row as runs of equally styled characters (for drawing without Rich's layout)."""
        out: list[list[tuple[str, Style]]] = []
        for y in range(self.height):
            row, styles = self.chars[y], self.styles[y]
            runs: list[tuple[str, Style]] = []
            start = 0
            for x in range(1, self.width + 1):
                if x == self.width or (styles[x] is not styles[start] and styles[x] != styles[start]):
                    runs.append(("".join(row[start:x]), styles[start]))
                    start = x
            out.append(runs)
        return out

    def to_text(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        for y in range(self.height):
            row, styles = self.chars[y], self.styles[y]
            start = 0
            for x in range(1, self.width + 1):
                if x == self.width or styles[x] != styles[start]:
                    text.append("".join(row[start:x]), styles[start])
                    start = x
            if y < self.height - 1:
                text.append("\n")
        return text


_JUNCTIONS: dict[frozenset[tuple[int, int]], str] = {
    frozenset({(1, 0), (-1, 0)}): "─",
    frozenset({(0, 1), (0, -1)}): "│",
    frozenset({(1, 0)}): "─",
    frozenset({(-1, 0)}): "─",
    frozenset({(0, 1)}): "│",
    frozenset({(0, -1)}): "│",
    frozenset({(1, 0), (0, 1)}): "┌",
    frozenset({(-1, 0), (0, 1)}): "┐",
    frozenset({(1, 0), (0, -1)}): "└",
    frozenset({(-1, 0), (0, -1)}): "┘",
    frozenset({(1, 0), (-1, 0), (0, 1)}): "┬",
    frozenset({(1, 0), (-1, 0), (0, -1)}): "┴",
    frozenset({(0, 1), (0, -1), (1, 0)}): "├",
    frozenset({(0, 1), (0, -1), (-1, 0)}): "┤",
}
"""Directions a line leaves a cell in -> the box-drawing character."""


def _edge_directions(layout: FlowLayout) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """For every edge cell, the directions its lines leave in (so branches join)."""
    dirs: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for (a, b), path in layout.routes.items():
        if a > b:
            continue
        for i, cell in enumerate(path):
            prev = path[i - 1] if i > 0 else _outside(layout.boxes[a], cell)
            nxt = path[i + 1] if i + 1 < len(path) else _outside(layout.boxes[b], cell)
            out = dirs.setdefault(cell, set())
            for other in (prev, nxt):
                step = (other[0] - cell[0], other[1] - cell[1])
                if abs(step[0]) + abs(step[1]) == 1:
                    out.add(step)
    return dirs


def _arrow(prev: tuple[int, int], cur: tuple[int, int]) -> str:
    dx, dy = cur[0] - prev[0], cur[1] - prev[1]
    return {(1, 0): "▶", (-1, 0): "◀", (0, 1): "▼", (0, -1): "▲"}.get((dx, dy), "●")


def render_flow(
    layout: FlowLayout,
    lit: dict[str, str],
    packets: list[Packet],
    *,
    foreground: str = "#c0c0c0",
    dim: str = "#707070",
) -> Text:
    """The diagram as Rich ``Text`` (see :func:`draw_flow` for the arguments)."""
    return draw_flow(layout, lit, packets, foreground=foreground, dim=dim).to_text()


def render_flow_rows(
    layout: FlowLayout,
    lit: dict[str, str],
    packets: list[Packet],
    *,
    foreground: str = "#c0c0c0",
    dim: str = "#707070",
) -> list[list[tuple[str, Style]]]:
    """The diagram as styled runs per row: what the flow view turns into strips directly."""
    return draw_flow(layout, lit, packets, foreground=foreground, dim=dim).rows()


@lru_cache(maxsize=16)
def _edges(layout: FlowLayout, dim: str) -> _Canvas:
    """The edges alone: the same in every frame of a layout, so drawn once and copied."""
    canvas = _Canvas(layout.width, layout.height, Style())
    edge_style = Style(color=dim)
    for (x, y), dirs in _edge_directions(layout).items():
        canvas.put(x, y, _JUNCTIONS.get(frozenset(dirs), "┼"), edge_style)
    return canvas


@lru_cache(maxsize=64)
def _box_style(colour: str | None, foreground: str) -> tuple[Style, Style]:
    if colour:
        return Style(color=colour, bold=True), Style(color="#000000", bgcolor=colour, bold=True)
    plain = Style(color=foreground)
    return plain, plain


def draw_flow(
    layout: FlowLayout,
    lit: dict[str, str],
    packets: list[Packet],
    *,
    foreground: str = "#c0c0c0",
    dim: str = "#707070",
) -> _Canvas:
    """Draw the diagram.

    Args:
        layout: where boxes and edges go.
        lit: hop -> colour for the components doing work now.
        packets: packets to draw on their edges, first one on top.
        foreground: colour of idle boxes; ``dim`` of idle edges.
    """
    canvas = _edges(layout, dim).copy()
    for hop, box in layout.boxes.items():
        colour = lit.get(hop)
        style, inside = _box_style(colour, foreground)
        inner = f" {HOP_TITLES[hop]} ".center(box.width - 2)
        if box.height == 1:
            canvas.write(box.left, box.top, "[", style)
            canvas.write(box.left + 1, box.top, inner, inside if colour else style)
            canvas.write(box.right, box.top, "]", style)
        elif colour:
            canvas.write(box.left, box.top, "┏" + "━" * (box.width - 2) + "┓", style)
            canvas.write(box.left, box.top + 1, "┃", style)
            canvas.write(box.left + 1, box.top + 1, inner, inside)
            canvas.write(box.right, box.top + 1, "┃", style)
            canvas.write(box.left, box.bottom, "┗" + "━" * (box.width - 2) + "┛", style)
        else:
            canvas.write(box.left, box.top, "┌" + "─" * (box.width - 2) + "┐", style)
            canvas.write(box.left, box.top + 1, "│" + inner + "│", style)
            canvas.write(box.left, box.bottom, "└" + "─" * (box.width - 2) + "┘", style)
    for packet in reversed(packets):
        _draw_packet(canvas, layout, packet)
    return canvas


def _outside(box: Box, cell: tuple[int, int]) -> tuple[int, int]:
    """The box cell next to a path end, so the end's line points into the box."""
    x, y = cell
    if box.left <= x <= box.right:
        return (x, box.top if y < box.top else box.bottom)
    return (box.left if x < box.left else box.right, y)


def _draw_packet(canvas: _Canvas, layout: FlowLayout, packet: Packet) -> None:
    trail = Style(color=packet.colour, bold=True)
    if packet.source is None:
        box = layout.boxes.get(packet.target)
        if box is not None:
            canvas.write(box.left, box.bottom + 1, packet.label[: layout.width - box.left], trail, only_blank=True)
        return
    path = layout.path(packet.source, packet.target)
    if not path:
        return
    head = min(len(path) - 1, int(packet.progress * len(path)))
    for i in range(head):
        canvas.put(path[i][0], path[i][1], "═" if path[i][1] == path[i + 1][1] else "║", trail)
    canvas.put(path[head][0], path[head][1], "●", trail)
    if head == len(path) - 1 and len(path) > 1:
        canvas.put(path[head][0], path[head][1], _arrow(path[head - 1], path[head]), trail)
    _draw_label(canvas, path, packet.label, trail)


def _draw_label(canvas: _Canvas, path: list[tuple[int, int]], label: str, style: Style) -> None:
    """Put the label beside the path where it fits (above a run, right of a drop)."""
    for x, y in path:
        for lx, ly in ((x, y - 1), (x + 2, y), (x, y + 1)):
            if not (0 <= ly < canvas.height):
                continue
            room = 0
            while lx + room < canvas.width and canvas.chars[ly][lx + room] == " ":
                room += 1
            if room >= min(len(label), 12) + 1:
                shown = label if len(label) <= room - 1 else label[: room - 2] + "…"  # cut, but say so
                canvas.write(lx, ly, shown, style)
                return
