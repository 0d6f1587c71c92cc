"""Profiling: py-spy's overhead on a busy process, and the cost of big flamegraphs.

Prints (a) a fixed CPU workload's time with and without py-spy attached at 100 Hz (the agent's
exact command), alternating, several rounds, and the overhead ratio (aim ≤ 1.03); (b) for a
synthetic profile of 1,000,000 samples over 50,000 distinct stacks: the time to parse the
collapsed file, the time to render the interactive flamegraph page from it (aim ≤ 3× parse) and
the page's weight, the agent's time to make and store the SVG and speedscope files, and
Chromium's first paint of the page.
Usage: .venv/bin/python bench/profiling.py [--rounds 8] [--work-s 2.5]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, gunicorn, login_cookie, setup_django

# A fixed amount of pure-Python work, timed inside the process (no start-up in the figure).
WORKLOAD = """
import sys, time
def checkout_totals(n):
    total = 0
    for i in range(n):
        total += (i * 7919) % 104729
    return total
checkout_totals(200_000)  # warm up
print("ready", flush=True)
sys.stdin.readline()
started = time.perf_counter()
checkout_totals(int(sys.argv[1]))
print(time.perf_counter() - started, flush=True)
"""


def _calibrate(seconds: float) -> int:
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += (i * 7919) % 104729
    return int(2_000_000 * seconds / (time.perf_counter() - started))


def _one_round(n: int, *, profiled: bool) -> float:
    sys.path.insert(0, str(ROOT))
    from profiling import agent

    child = subprocess.Popen(
        [sys.executable, "-c", WORKLOAD, str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdin and child.stdout
    child.stdout.readline()
    spy = None
    if profiled:
        with tempfile.TemporaryDirectory() as tmp:
            request = agent.Request(pid=child.pid, duration_s=120, rate_hz=100)
            spy = subprocess.Popen(
                agent.command(request, pyspy=agent.pyspy_path(), output=Path(tmp) / "p.txt"),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            assert spy.stdout
            spy.stdout.readline()  # "Sampling process ..." once attached
            elapsed = _go(child)
            spy.wait(timeout=30)  # exits by itself: "process exited"
            return elapsed
    return _go(child)


def _go(child: subprocess.Popen[str]) -> float:
    assert child.stdin and child.stdout
    child.stdin.write("go\n")
    child.stdin.flush()
    elapsed = float(child.stdout.readline())
    child.wait()
    return elapsed


def overhead(rounds: int, work_s: float) -> None:
    n = _calibrate(work_s)
    plain: list[float] = []
    spied: list[float] = []
    for r in range(rounds):
        # Alternate the order so drift (thermal, other load) hits both sides alike.
        for profiled in (r % 2 == 0, r % 2 == 1):
            (spied if profiled else plain).append(_one_round(n, profiled=profiled))
    ratio_median = statistics.median(spied) / statistics.median(plain)
    ratio_mean = statistics.mean(spied) / statistics.mean(plain)
    print("(a) py-spy overhead, 100 Hz, --nonblocking (the agent's command)")
    print(f"    workload alone   : {' '.join(f'{t:.3f}' for t in plain)} s")
    print(f"    with py-spy      : {' '.join(f'{t:.3f}' for t in spied)} s")
    print(f"    overhead ratio   : {ratio_median:.3f} (median)  {ratio_mean:.3f} (mean)")


# --- (b) big flamegraphs --------------------------------------------------------------------

BASE = [
    "<module> (gunicorn:8)", "run (gunicorn/app/base.py:72)", "run (gunicorn/arbiter.py:202)",
    "spawn_worker (gunicorn/arbiter.py:589)", "init_process (gunicorn/workers/base.py:142)",
    "run (gunicorn/workers/sync.py:125)", "handle (gunicorn/workers/sync.py:135)",
    "handle_request (gunicorn/workers/sync.py:178)",
    "__call__ (django/core/handlers/wsgi.py:124)",
    "get_response (django/core/handlers/base.py:140)",
]  # fmt: skip


def synthetic(stacks: int = 50_000, samples: int = 1_000_000, seed: int = 7) -> str:
    """A web app's profile: stacks grow from a common framework base by a few frames at a time
    (depth ~30, up to 60), sample counts heavy-tailed like real hot paths."""
    rng = random.Random(seed)
    funcs = [f"func_{i} (app/module_{i % 97}/file_{i % 31}.py:{i % 400 + 1})" for i in range(3000)]
    made: list[list[str]] = [BASE]
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < stacks:
        parent = rng.choice(made[-200:] if rng.random() < 0.7 else made)
        keep = rng.randint(max(10, len(parent) - 3), len(parent))
        new = parent[:keep] + [rng.choice(funcs) for _ in range(rng.randint(1, 4))]
        if len(new) > 60:
            new = new[: rng.randint(12, 40)]
        key = ";".join(new)
        if key in seen:
            continue
        seen.add(key)
        made.append(new)
        lines.append(key)
    weights = [rng.paretovariate(1.2) for _ in lines]
    scale = samples / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    counts[0] += samples - sum(counts)
    return "".join(f"{k} {c}\n" for k, c in zip(lines, counts, strict=True))


def _best[T](fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result  # the last result: all are equal


def _make_run(text: str) -> int:
    """A succeeded run whose py-spy 'recorded' `text`: the agent's real code from the output
    file on (artifacts, storage, events), with a stand-in py-spy that copies the file."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    from profiling import actions
    from services.actions import service_create
    from sessions.actions import session_open

    folder = Path(tempfile.mkdtemp(prefix="prodbug-bench-pyspy-"))
    (folder / "profile.txt").write_text(text)
    fake = folder / "py-spy"
    fake.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
        f'cp "{folder / "profile.txt"}" "$out"\n'
    )
    fake.chmod(0o755)
    settings.PRODBUG_PYSPY = str(fake)
    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="responder"))
    service = service_create(
        name="bench-shop", base_url="http://127.0.0.1:9", process_selector={"pid": os.getpid()}
    )
    session = session_open(title="Bench profile", severity="SEV2", actor=user, services=[service])
    run = actions.profile_start(session=session, service=service, actor=user, duration_s=60)
    started = time.perf_counter()
    done = actions.profile_execute(run_id=run.pk)
    assert done is not None and done.state == "succeeded", done and done.error
    print(f"    agent: SVG + speedscope made and stored in {time.perf_counter() - started:.2f} s")
    return run.pk


def big_flamegraph() -> None:
    from django.core.cache import cache
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory

    from profiling import flamegraph, queries
    from profiling.models import ProfileRun

    text = synthetic()
    print("(b) synthetic profile: 1,000,000 samples, 50,000 distinct stacks")
    print(f"    collapsed file   : {len(text) / 1e6:.1f} MB")
    parse_s, stacks = _best(lambda: flamegraph.parse_collapsed(text))

    run_id = _make_run(text)
    run = queries.run_detail(run_id).prefetch_related("artifacts").get()
    request = RequestFactory().get(f"/profiles/{run_id}/")
    from django.contrib.auth.models import User

    request.user = User.objects.get(username="bench")

    def render() -> str:
        flame = queries.render_flame(stacks)
        ctx = {"run": run, "flame": flame, "artifacts": {}, "others": []}
        return render_to_string("profiling/detail.html", ctx, request)

    render_s, page = _best(render)
    print(f"    parse            : {parse_s:.3f} s")
    print(f"    render page      : {render_s:.3f} s  ({render_s / parse_s:.2f}× parse)")
    print(f"    page weight      : {len(page) / 1e6:.2f} MB HTML")

    client = Client()
    client.cookies["sessionid"] = login_cookie("bench")
    cache.clear()
    started = time.perf_counter()
    response = client.get(f"/profiles/{run_id}/")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    client.get(f"/profiles/{run_id}/")
    warm = time.perf_counter() - started
    assert response.status_code == 200
    print(f"    GET page         : {cold:.3f} s from storage (read + parse + render), "
          f"{warm * 1000:.0f} ms cached")  # fmt: skip
    frames = response.content.count(b'class="fg-f ')
    samples = ProfileRun.objects.get(pk=run_id).samples
    print(f"    frames drawn     : {frames:,} (of a {samples:,}-sample profile)")
    first_paint(run_id)


def first_paint(run_id: int) -> None:
    chromium = os.environ.get("PRODBUG_CHROMIUM", "/usr/lib/chromium/chromium")
    if not Path(chromium).exists():
        print(f"    first paint      : skipped (no Chromium at {chromium})")
        return
    from playwright.sync_api import sync_playwright

    cookie = login_cookie("bench")
    with gunicorn(8791, workers=1, threads=2) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
        page = context.new_page()
        for label in ("cold server cache", "warm server cache"):
            page.goto(f"{base}/profiles/{run_id}/", wait_until="load")
            page.wait_for_selector(".flamegraph[data-ready=true]", timeout=60_000)
            timing = page.evaluate(
                """() => {
                  const nav = performance.getEntriesByType('navigation')[0];
                  const paint = Object.fromEntries(
                    performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
                  return {ttfb: nav.responseStart, fcp: paint['first-contentful-paint'],
                          fp: paint['first-paint'], load: nav.loadEventEnd,
                          ready: performance.now()};
                }"""
            )
            print(
                f"    Chromium ({label}): first paint {timing['fp']:.0f} ms, first contentful "
                f"paint {timing['fcp']:.0f} ms, load {timing['load']:.0f} ms "
                f"(server answered after {timing['ttfb']:.0f} ms)"
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--work-s", type=float, default=2.5)
    args = parser.parse_args()
    setup_django()
    overhead(args.rounds, args.work_s)
    big_flamegraph()


if __name__ == "__main__":
    main()
