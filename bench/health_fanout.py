"""Health-check fan-out: N checks against a server whose every answer takes 200 ms, run
through the real Celery path (a prefork worker on the configured broker).

Prints, for N = 50, 200, 500: the run's wall time (worker start → finish), its ratio to
200 ms (the physical floor is 1.0), the time from request to results stored (includes the
broker round trip), and the worker's peak memory (RSS of the worker processes).
Usage: .venv/bin/python bench/health_fanout.py [--sizes 50,200,500]
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, setup_django

DELAY_MS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(var: Path) -> subprocess.Popen[bytes]:
    log = (var / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prodbug_site", "worker", "--pool", "prefork",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(4)
    return proc


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,200,500")
    args = parser.parse_args()

    var = setup_django()
    from django.contrib.auth.models import User
    from django.db import connection

    from services import actions as service_actions
    from services.models import HealthRun
    from sessions import actions

    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench/_delay_server.py"), str(port),
                               str(DELAY_MS)])  # fmt: skip
    worker = start_worker(var)
    user = User.objects.create(username="bench")
    print(f"database: {connection.vendor}, broker: {os.environ.get('REDIS_URL') or 'filesystem'}")
    print(f"target answers every request after {DELAY_MS} ms\n")
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            service = service_actions.service_create(
                name=f"fanout-{n}", base_url=f"http://127.0.0.1:{port}"
            )
            for i in range(n):
                service_actions.check_create(
                    service=service,
                    data=service_actions.CheckInput(
                        kind="http", target=f"http://127.0.0.1:{port}/c{i}", timeout_ms=5000
                    ),
                )
            session = actions.session_open(
                title=f"fanout {n}", severity="SEV3", actor=user, services=[service]
            )
            peak = 0
            done = threading.Event()
            root = psutil.Process(worker.pid)

            def sample(root: psutil.Process = root, done: threading.Event = done) -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, tree_rss(root))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample)
            sampler.start()
            requested = time.perf_counter()
            run = actions.session_health_run_start(session=session, actor=user)
            while True:
                run.refresh_from_db()
                if run.is_finished:
                    break
                time.sleep(0.05)
            end_to_end = time.perf_counter() - requested
            done.set()
            sampler.join()
            assert run.state == HealthRun.State.DONE, run.error
            wall = (run.finished_at - run.started_at).total_seconds()
            print(
                f"N={n:4d}  wall {wall * 1000:7.1f} ms  ratio {wall / (DELAY_MS / 1000):5.2f}  "
                f"(aim <= 2.0)  request→stored {end_to_end * 1000:7.1f} ms  "
                f"passed {run.passed}/{n}  worker peak RSS {peak / 2**20:6.1f} MiB"
            )
    finally:
        worker.terminate()
        server.terminate()
        worker.wait(timeout=20)
        server.wait(timeout=5)


if __name__ == "__main__":
    main()
