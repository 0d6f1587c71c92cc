"""Real processes to profile, a real py-spy, and a worker on the agent's queue."""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from profiling import agent
from profiling.models import ProfileRun
from services import actions as service_actions
from services.models import Service
from sessions.models import DebugSession
from tests.conftest import need, running_worker
from tests.factories import make_session

FUNCTION = "burn_cpu_for_prodbug_test"
# Prints "ready" once the interpreter is up (py-spy cannot attach to a half-started Python),
# then burns CPU in a function with a recognisable name, forever or for argv[2] seconds.
BUSY = f"""
import sys, time

def {FUNCTION}(until):
    x = 0
    while time.monotonic() < until:
        for i in range(10000):
            x += i * i

print("ready", flush=True)
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1e9
{FUNCTION}(time.monotonic() + seconds)
"""


@dataclass
class Busy:
    proc: subprocess.Popen[str]
    marker: str

    @property
    def pid(self) -> int:
        return self.proc.pid


@pytest.fixture
def busy() -> Iterator[Callable[..., Busy]]:
    """Start busy Python processes: `busy()` runs until the test ends, `busy(seconds=2)`
    exits by itself; `marker` puts the same word on several command lines."""
    started: list[Busy] = []

    def start(*, seconds: float | None = None, marker: str | None = None) -> Busy:
        marker = marker or f"prodbug-target-{uuid.uuid4().hex[:12]}"
        args = [sys.executable, "-c", BUSY, marker] + ([str(seconds)] if seconds else [])
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started.append(Busy(proc, marker))
        return started[-1]

    yield start
    for b in started:
        b.proc.kill()
        b.proc.wait()


@pytest.fixture(scope="session")
def pyspy() -> str:
    """py-spy, proven able to attach here (root, or ptrace allowed), else skip/fail."""
    path = agent.pyspy_path()
    target = subprocess.Popen(
        [sys.executable, "-c", BUSY, "prodbug-ptrace-check"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None
        target.stdout.readline()
        check = subprocess.run(
            [path, "dump", "--pid", str(target.pid)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        check = subprocess.CompletedProcess([path], 1, "", str(exc))
    finally:
        target.kill()
        target.wait()
    need("ptrace", check.returncode == 0, f"py-spy cannot attach: {check.stderr[-500:]}")
    return path


@pytest.fixture
def media(settings: object, tmp_path: Path) -> Path:
    """Artifacts of this test in a folder of their own."""
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    return tmp_path / "media"


def make_profiled_service(selector: dict[str, object], name: str = "shop") -> Service:
    return service_actions.service_create(
        name=name, base_url="http://127.0.0.1:9", process_selector=selector
    )


@pytest.fixture
def shop_session(responder: User) -> Callable[..., tuple[DebugSession, Service]]:
    def make(selector: dict[str, object]) -> tuple[DebugSession, Service]:
        service = make_profiled_service(selector)
        return make_session(responder, services=[service]), service

    return make


@pytest.fixture
def profiling_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real prefork worker consuming only the local agent's queue, as `make run` starts."""
    with running_worker("-Q", "profiling.local", name="profiler") as proc:
        yield proc


KNOWN = """\
main (app.py:1);handle (app.py:5);query (db.py:10) 50
main (app.py:1);handle (app.py:5);render (tpl.py:3) 30
main (app.py:1);idle (app.py:9) 20
"""


@pytest.fixture
def recorded(
    settings: object, tmp_path: Path, media: Path, responder: User
) -> Callable[..., ProfileRun]:
    """A run carried out by the real agent code with a stand-in py-spy that writes `collapsed`
    (for pages and downloads, where a real profile's content would be unpredictable)."""
    from profiling import actions

    def record(collapsed: str = KNOWN, *, session: DebugSession | None = None) -> ProfileRun:
        data = tmp_path / f"profile-{uuid.uuid4().hex}.txt"
        data.write_text(collapsed)
        script = tmp_path / f"fake-py-spy-{uuid.uuid4().hex}"
        script.write_text(
            '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
            f'cp "{data}" "$out"\n'
        )
        script.chmod(0o755)
        settings.PRODBUG_PYSPY = str(script)  # type: ignore[attr-defined]
        if session is None:
            service = Service.objects.filter(slug="shop").first() or make_profiled_service(
                {"pid": os.getpid()}
            )
            session = make_session(responder, services=[service])
        else:
            service = session.services.get()
        run = actions.profile_start(session=session, service=service, actor=responder)
        finished = actions.profile_execute(run_id=run.pk)
        assert finished is not None and finished.state == ProfileRun.State.SUCCEEDED
        return finished

    return record
