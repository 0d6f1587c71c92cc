"""Collapsed stacks → call tree → flamegraphs (interactive HTML, static SVG), speedscope, diffs.

Pure Python, no Django: the agent, the pages, the tests and the benchmark all use it.
Collapsed format (py-spy `--format raw`, Brendan Gregg's stackcollapse): one line per distinct
stack, `root;caller;callee count`.
"""

import dataclasses
import html
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

Stacks = list[tuple[list[str], int]]

ROOT_NAME = "all"
ROW_PX = 16
# Enough frames to see everything that is wider than ~0.1 px at full width, few enough that the
# page stays light and Chromium paints it quickly (the bench measures both).
MAX_FRAMES = 6000
SVG_WIDTH_PX = 1200
PALETTE_SIZE = 12
DIFF_BUCKETS = 5
# py-spy frames read `function (file:line)`; native frames may lack the location.
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>.*):(?P<line>\d+)\)$")


class CollapsedError(ValueError):
    pass


def parse_collapsed(text: str) -> Stacks:
    """Every non-empty line as (frames root first, samples). Duplicate stacks stay separate;
    the tree merges them. py-spy writes an empty stack (" 3") for samples taken while the
    target shuts down: they count, on the root."""
    stacks: Stacks = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        stack, space, count = line.rstrip().rpartition(" ")
        if not space or not count.isdigit():
            raise CollapsedError(f"line {number}: expected 'frame;frame;... count'")
        stacks.append((stack.split(";") if stack else [], int(count)))
    return stacks


def total_samples(stacks: Stacks) -> int:
    return sum(count for _, count in stacks)


class Node:
    """A frame in the call tree. `value` counts the samples of this frame and its callees;
    in a diff it is profile B and `base` is profile A."""

    __slots__ = ("base", "children", "name", "value")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0
        self.base = 0
        self.children: dict[str, Node] = {}

    @property
    def self_value(self) -> int:
        return self.value - sum(c.value for c in self.children.values())

    def find(self, path: Iterable[str]) -> "Node | None":
        node: Node | None = self
        for name in path:
            node = node.children.get(name) if node else None
        return node


def build_tree(stacks: Stacks) -> Node:
    root = Node(ROOT_NAME)
    for frames, count in stacks:
        root.value += count
        node = root
        for name in frames:
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = Node(name)
            child.value += count
            node = child
    return root


# --- Layout and statistics ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """A laid-out frame: `x` and `value` in samples, `depth` 0 for the root."""

    name: str
    depth: int
    x: int
    value: int
    self_value: int
    base: int = 0


@dataclass(frozen=True, slots=True)
class Layout:
    frames: list[Frame]
    total: int
    base_total: int
    depth: int  # rows
    hidden: int  # frames left out because they are too narrow to see


@dataclass(frozen=True, slots=True)
class FunctionStat:
    name: str
    self_samples: int
    total_samples: int


def _summarize(root: Node) -> tuple[list[int], list[FunctionStat]]:
    """One pass over every node: all frame values (to choose what is wide enough to draw) and
    self/total samples per function. A recursive function counts once per stack in its total
    (only its outermost frame adds), so no total exceeds the profile."""
    values: list[int] = []
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    open_frames: dict[str, int] = {}  # frames of each name on the current path
    pending: list[tuple[Node, bool]] = [(c, True) for c in root.children.values()]
    while pending:
        node, entering = pending.pop()
        name = node.name
        if entering:
            open_frames[name] = open_frames.get(name, 0) + 1
            pending.append((node, False))
            if node.children:
                pending.extend([(c, True) for c in node.children.values()])
            continue
        still_open = open_frames[name] - 1
        open_frames[name] = still_open
        values.append(node.value)
        if not still_open:
            total[name] = total.get(name, 0) + node.value
        spent = node.value - sum([c.value for c in node.children.values()])
        if spent:
            own[name] = own.get(name, 0) + spent
    stats = [FunctionStat(name, own.get(name, 0), t) for name, t in total.items() if t]
    return values, stats


def function_stats(root: Node) -> list[FunctionStat]:
    return _summarize(root)[1]


def top_functions(stats: list[FunctionStat], *, by: str, limit: int = 20) -> list[FunctionStat]:
    key = (lambda s: s.self_samples) if by == "self" else (lambda s: s.total_samples)
    return sorted((s for s in stats if key(s)), key=lambda s: (-key(s), s.name))[:limit]


def _cut(values: list[int], max_frames: int) -> int:
    """The smallest value a frame needs to be drawn so that at most `max_frames` are (the
    root included). A callee is never wider than its caller, so cutting by value keeps the
    drawn frames one connected tree."""
    if len(values) < max_frames:
        return 1
    ordered = sorted(values, reverse=True)
    cut = max(ordered[max_frames - 2], 1)
    if sum(1 for v in ordered if v >= cut) >= max_frames:
        cut += 1  # ties at the cut: drop them all rather than overshoot
    return cut


def layout(root: Node, *, cut: int = 1) -> Layout:
    """Frames at least `cut` samples wide, in drawing order (depth first, callees sorted by
    name as flamegraph.pl does), positioned in samples."""
    frames: list[Frame] = []
    depth_max = 0
    hidden = 0  # callees cut (their own callees are not counted)
    pending: list[tuple[Node, int, int]] = [(root, 0, 0)]
    while pending:
        node, depth, x = pending.pop()
        children = sorted(node.children.values(), key=lambda c: c.name)
        frames.append(
            Frame(
                name=node.name,
                depth=depth,
                x=x,
                value=node.value,
                self_value=node.value - sum(c.value for c in children),
                base=node.base,
            )
        )
        depth_max = max(depth_max, depth)
        offset = x
        placed: list[tuple[Node, int, int]] = []
        for child in children:
            if child.value >= cut:
                placed.append((child, depth + 1, offset))
            else:
                hidden += 1
            offset += child.value
        pending.extend(reversed(placed))
    return Layout(frames, root.value, root.base, depth_max + 1, hidden)


@dataclass(frozen=True, slots=True)
class Analysis:
    layout: Layout
    stats: list[FunctionStat]


def analyze(root: Node, *, max_frames: int = MAX_FRAMES) -> Analysis:
    values, stats = _summarize(root)
    drawn = layout(root, cut=_cut(values, max_frames))
    # `values` holds every frame but the root.
    hidden = len(values) + 1 - len(drawn.frames)
    return Analysis(dataclasses.replace(drawn, hidden=hidden), stats)


# --- Differential ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diff:
    root: Node  # the tree of `after`; each frame also carries its `before` samples as `base`
    before: Node


def diff_trees(before: Stacks, after: Stacks) -> Diff:
    """Widths come from `after`. Frames only in `before` are kept with value 0: not drawn, but
    their loss shows in the function changes."""
    root, old = build_tree(after), build_tree(before)
    pending = [(root, old)]
    while pending:
        target, source = pending.pop()
        target.base = source.value
        for name, child in source.children.items():
            existing = target.children.get(name)
            if existing is None:
                existing = target.children[name] = Node(name)
            pending.append((existing, child))
    return Diff(root, old)


def share_delta(value: int, total: int, base: int, base_total: int) -> Fraction:
    """Change in share of the profile, B minus A, as an exact fraction (1/10 = 10 points):
    a diff is compared and sorted, so no float rounding may reorder or blur it."""
    after = Fraction(value, total) if total else Fraction(0)
    before = Fraction(base, base_total) if base_total else Fraction(0)
    return after - before


@dataclass(frozen=True, slots=True)
class FunctionChange:
    name: str
    before: Fraction  # share of all samples in A
    after: Fraction
    delta: Fraction


def function_changes(
    before: list[FunctionStat], before_total: int, after: list[FunctionStat], after_total: int,
    *, limit: int = 20,
) -> list[FunctionChange]:  # fmt: skip
    """Functions whose share of the total changed most between two profiles."""
    zero = Fraction(0)
    was_share = {s.name: Fraction(s.total_samples, before_total) for s in before if before_total}
    now_share = {s.name: Fraction(s.total_samples, after_total) for s in after if after_total}
    changes = []
    for name in was_share.keys() | now_share.keys():
        was, now = was_share.get(name, zero), now_share.get(name, zero)
        if was != now:
            changes.append(FunctionChange(name, was, now, now - was))
    changes.sort(key=lambda c: (-abs(c.delta), c.name))
    return changes[:limit]


# --- Colours --------------------------------------------------------------------------------


def palette_index(name: str) -> int:
    """Stable per function, so the same function has the same colour in every profile."""
    return zlib.crc32(name.encode()) % PALETTE_SIZE


def diff_bucket(delta: Fraction, scale: Fraction) -> int:
    """-DIFF_BUCKETS (shrank most) … 0 (unchanged) … +DIFF_BUCKETS (grew most)."""
    if not scale or not delta:
        return 0
    step = round(delta / scale * DIFF_BUCKETS)
    if step == 0:
        step = 1 if delta > 0 else -1
    return max(-DIFF_BUCKETS, min(DIFF_BUCKETS, step))


def _warm_rgb(name: str) -> str:
    # flamegraph.pl's "hot" palette, seeded by the name instead of randomly.
    h = zlib.crc32(name.encode())
    return f"rgb({205 + h % 50},{(h >> 8) % 230},{(h >> 16) % 55})"


# --- Interactive HTML -----------------------------------------------------------------------


def _pct(part: int, total: int) -> str:
    return f"{part * 100 / total:.4f}%" if total else "0%"


def _label_fits(value: int, total: int) -> bool:
    # Text only where it can show a few characters at a typical width; the script adds labels
    # to frames that grow wide enough when zooming.
    return total > 0 and value * SVG_WIDTH_PX / total >= 24


def render_interactive(lay: Layout, *, diff: bool = False) -> str:
    """The flamegraph as inline SVG: frames positioned in percent (so it paints without the
    script), names in a JSON table the script reads for search and tooltips."""
    names: dict[str, int] = {}
    total = lay.total
    scale = Fraction(0)
    if diff:
        scale = max(
            (abs(share_delta(f.value, total, f.base, lay.base_total)) for f in lay.frames),
            default=scale,
        )
    height = lay.depth * ROW_PX
    parts = [
        f'<svg class="fg-svg" xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}"'
        f' role="img" aria-label="Flamegraph, {len(lay.frames)} frames">'
    ]
    for frame in lay.frames:
        index = names.setdefault(frame.name, len(names))
        if diff:
            delta = share_delta(frame.value, total, frame.base, lay.base_total)
            bucket = diff_bucket(delta, scale)
            css = f"d{bucket:+d}".replace("+", "p").replace("-", "m")
            extra = f' data-b="{frame.base}"'
        else:
            css, extra = f"c{palette_index(frame.name)}", ""
        label = ""
        if _label_fits(frame.value, total):
            label = f'<text x="3" y="11">{html.escape(frame.name)}</text>'
        parts.append(
            f'<svg class="fg-f {css}" x="{_pct(frame.x, total)}" y="{frame.depth * ROW_PX}"'
            f' width="{_pct(frame.value, total)}" height="{ROW_PX}" data-n="{index}"'
            f' data-x="{frame.x}" data-v="{frame.value}" data-s="{frame.self_value}"{extra}>'
            f'<rect width="100%" height="{ROW_PX - 1}"/>{label}</svg>'
        )
    parts.append("</svg>")
    # Not executed (a data block), so the CSP allows it; escaped so no "</script>" can end it.
    table = (
        json.dumps(list(names), ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    parts.append(f'<script type="application/json" class="fg-names">{table}</script>')
    return "".join(parts)


# --- Static SVG (the downloadable artifact) -------------------------------------------------


def render_svg(lay: Layout, *, title: str) -> str:
    """A self-contained flamegraph: no script, tooltips as <title>, fixed width."""
    width, total = SVG_WIDTH_PX, lay.total
    top = 36
    height = top + lay.depth * ROW_PX + 8
    esc = html.escape
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="Verdana, sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#f8f8f8"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="16">{esc(title)}</text>',
    ]
    for frame in lay.frames:
        w = frame.value * width / total if total else 0
        if w < 0.1:
            continue
        x = frame.x * width / total
        y = top + frame.depth * ROW_PX
        share = frame.value * 100 / total
        chars = int((w - 6) / 7)
        label = frame.name if len(frame.name) <= chars else frame.name[: max(chars - 2, 0)] + "…"
        text = f'<text x="{x + 3:.1f}" y="{y + 11}">{esc(label)}</text>' if chars >= 3 else ""
        parts.append(
            f"<g><title>{esc(frame.name)} ({frame.value:,} samples, {share:.2f}%)</title>"
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{ROW_PX - 1}"'
            f' fill="{_warm_rgb(frame.name)}" rx="2"/>{text}</g>'
        )
    parts.append("</svg>\n")
    return "\n".join(parts)


# --- speedscope -----------------------------------------------------------------------------


def _frame_info(name: str) -> dict[str, object]:
    match = _FRAME.match(name)
    if not match:
        return {"name": name}
    return {"name": match["name"], "file": match["file"], "line": int(match["line"])}


def to_speedscope(stacks: Stacks, *, name: str, rate_hz: int) -> dict[str, object]:
    """A speedscope file (sampled profile, stacks root first). Weights are seconds: each sample
    stands for 1/rate of a second."""
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[float] = []
    for frames, count in stacks:
        samples.append([index.setdefault(f, len(index)) for f in frames])
        weights.append(count / rate_hz)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "name": name,
        "exporter": "prodbug",
        "activeProfileIndex": 0,
        "shared": {"frames": [_frame_info(f) for f in index]},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "seconds",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
    }
