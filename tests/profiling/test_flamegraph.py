"""Collapsed stacks → trees, statistics, diffs, speedscope and SVG, on known profiles."""

import json
import re
import xml.etree.ElementTree as ET
from fractions import Fraction as F

import pytest

from profiling import flamegraph as fg

BEFORE = """\
main (app.py:1);handle (app.py:5);query (db.py:10) 50
main (app.py:1);handle (app.py:5);render (tpl.py:3) 30
main (app.py:1);idle (app.py:9) 20
"""
AFTER = """\
main (app.py:1);handle (app.py:5);query (db.py:10) 150
main (app.py:1);handle (app.py:5);render (tpl.py:3) 30
main (app.py:1);handle (app.py:5);cache_miss (cache.py:7) 20
"""


def test_it_parses_and_merges_duplicate_stacks() -> None:
    stacks = fg.parse_collapsed("a;b 3\n\na;b 2\na 1\n 4\n")
    assert stacks == [(["a", "b"], 3), (["a", "b"], 2), (["a"], 1), ([], 4)]
    root = fg.build_tree(stacks)
    assert (root.value, root.find(["a"]).value, root.find(["a", "b"]).value) == (10, 6, 5)
    assert (root.find(["a"]).self_value, root.self_value) == (1, 4)


@pytest.mark.parametrize("line", ["a;b", "a;b x", "3"])
def test_it_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(fg.CollapsedError, match="line 1"):
        fg.parse_collapsed(line)


def test_self_and_total_count_recursion_once() -> None:
    root = fg.build_tree(fg.parse_collapsed("main;f;f;g 4\nmain;f 1\nmain 5\n"))
    stats = {s.name: (s.self_samples, s.total_samples) for s in fg.function_stats(root)}
    # f is on 5 stacks' paths (twice on 4 of them) and spends 1 sample itself.
    assert stats == {"main": (5, 10), "f": (1, 5), "g": (4, 4)}
    top = fg.top_functions(fg.function_stats(root), by="self", limit=2)
    assert [s.name for s in top] == ["main", "g"]


def test_the_diff_of_two_known_profiles_is_exact() -> None:
    diff = fg.diff_trees(fg.parse_collapsed(BEFORE), fg.parse_collapsed(AFTER))
    root = diff.root
    assert (root.value, root.base) == (200, 100)

    def share(path: list[str]) -> tuple[int, int, F]:
        node = root.find(path)
        assert node is not None
        return node.base, node.value, fg.share_delta(node.value, 200, node.base, 100)

    assert share(["main (app.py:1)"]) == (100, 200, 0)
    h = ["main (app.py:1)", "handle (app.py:5)"]
    assert share(h) == (80, 200, F(1, 5))  # 80 % → 100 %
    assert share([*h, "query (db.py:10)"]) == (50, 150, F(1, 4))  # 50 % → 75 %
    assert share([*h, "render (tpl.py:3)"]) == (30, 30, F(-3, 20))  # 30 % → 15 %
    assert share([*h, "cache_miss (cache.py:7)"]) == (0, 20, F(1, 10))
    # Gone in B: kept with no width, so only the function table shows it.
    assert share(["main (app.py:1)", "idle (app.py:9)"]) == (20, 0, F(-1, 5))

    changes = fg.function_changes(
        fg.function_stats(diff.before), 100, fg.function_stats(diff.root), 200
    )
    assert [(c.name, c.before, c.after, c.delta) for c in changes] == [
        ("query (db.py:10)", F(1, 2), F(3, 4), F(1, 4)),
        ("handle (app.py:5)", F(4, 5), F(1), F(1, 5)),
        ("idle (app.py:9)", F(1, 5), F(0), F(-1, 5)),
        ("render (tpl.py:3)", F(3, 10), F(3, 20), F(-3, 20)),
        ("cache_miss (cache.py:7)", F(0), F(1, 10), F(1, 10)),
    ]

    lay = fg.analyze(diff.root).layout
    html = fg.render_interactive(lay, diff=True)
    # Colour by change: query grew most (deepest red), render shrank (blue), main unchanged.
    grew_most = r'class="fg-f dp5"[^>]*data-x="20" data-v="150" data-s="150" data-b="50"'
    assert re.search(grew_most, html)
    assert re.search(r'class="fg-f dm3"[^>]*data-v="30" data-s="30" data-b="30"', html)
    assert re.search(r'class="fg-f dp0"[^>]*data-v="200" data-s="0" data-b="100"', html)
    assert "idle" not in html  # no width in B


def test_interactive_html_positions_frames_and_names_them_in_a_data_block() -> None:
    lay = fg.analyze(fg.build_tree(fg.parse_collapsed(BEFORE))).layout
    html = fg.render_interactive(lay)
    names = json.loads(re.search(r'class="fg-names">(.*?)</script>', html).group(1))
    assert names[0] == "all" and "query (db.py:10)" in names
    # The root spans everything; handle starts at 0 and covers 80 %.
    assert 'x="0.0000%" y="0" width="100.0000%"' in html
    i = names.index("handle (app.py:5)")
    assert f'x="0.0000%" y="32" width="80.0000%" height="16" data-n="{i}"' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline code or styles


def test_names_cannot_break_out_of_the_page() -> None:
    evil = "x</script><script>alert(1)</script> (a.py:1) 5\n"
    html = fg.render_interactive(fg.analyze(fg.build_tree(fg.parse_collapsed(evil))).layout)
    assert html.count("</script>") == 1 and "<script>alert" not in html


def test_big_profiles_draw_the_widest_frames_as_one_tree() -> None:
    lines = [f"main;worker_{i % 50};leaf_{i} {1 + i % 7}" for i in range(5000)]
    root = fg.build_tree(fg.parse_collapsed("\n".join(lines)))
    analysis = fg.analyze(root, max_frames=300)
    frames = analysis.layout.frames
    assert len(frames) <= 300
    assert analysis.layout.hidden == 1 + 1 + 50 + 5000 - len(frames)
    # Every drawn frame's caller is drawn too (one connected tree).
    spans = {(f.depth, f.x, f.x + f.value) for f in frames}
    for f in frames[1:]:
        assert any(d == f.depth - 1 and a <= f.x and f.x + f.value <= b for d, a, b in spans)
    assert {f.name for f in frames if f.depth == 2} == {f"worker_{i}" for i in range(50)}


def test_speedscope_file_follows_the_schema_shape() -> None:
    stacks = fg.parse_collapsed(BEFORE)
    doc = fg.to_speedscope(stacks, name="shop #1", rate_hz=100)
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert frames[0] == {"name": "main", "file": "app.py", "line": 1}
    (profile,) = doc["profiles"]
    assert profile["type"] == "sampled" and profile["unit"] == "seconds"
    assert [frames[i]["name"] for i in profile["samples"][0]] == ["main", "handle", "query"]
    assert profile["weights"] == [0.5, 0.3, 0.2] and profile["endValue"] == pytest.approx(1.0)


def test_static_svg_is_well_formed_and_has_tooltips() -> None:
    lay = fg.analyze(fg.build_tree(fg.parse_collapsed(BEFORE + "main;<b>&amp 5\n"))).layout
    svg = fg.render_svg(lay, title="shop · run 1")
    root = ET.fromstring(svg.split("\n", 1)[1])
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "query (db.py:10) (50 samples, 47.62%)" in titles
    assert "<b>&amp (5 samples, 4.76%)" in titles
    assert "<script" not in svg
