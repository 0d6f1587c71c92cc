import pytest

from flags import actions
from flags.models import Flag


@pytest.fixture
def debug_flag(db: None) -> Flag:
    return actions.flag_create(
        key="debug-mode",
        flag_type="boolean",
        variants={"on": True, "off": False},
        default_variant="off",
        description="Verbose logging for a user's requests",
    )


@pytest.fixture
def tier_flag(db: None) -> Flag:
    flag = actions.flag_create(
        key="checkout-tier",
        flag_type="string",
        variants={"fast": "fast", "safe": "safe", "beta": "beta"},
        default_variant="safe",
    )
    actions.flag_rule_add(
        flag=flag, attribute="email", operator="ends_with", values=["@corp.example"],
        variant="beta",
    )  # fmt: skip
    return flag


# --- Real log-level targets on 127.0.0.1 --------------------------------------------------

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO_TOKEN = "demo-t0ken-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Target:
    url: str
    port: int
    app: str
    workers: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Target":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--no-control-socket", "--log-level", "warning",
             "--forwarder-headers", "SCRIPT_NAME,PATH_INFO,ADMIN_TOKEN"],
            cwd=ROOT, env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.app} did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _target(app: str, workers: int, **env: str) -> Iterator[Target]:
    port = free_port()
    target = Target(f"http://127.0.0.1:{port}", port, app, workers, env).start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def demo_target(tmp_path: Path) -> Iterator[Target]:
    """The demo shop: two workers that propagate level changes to each other."""
    yield from _target(
        "demo_shop.app:app", 2, DEMO_STATE_DIR=str(tmp_path / "demo"),
        DEMO_ADMIN_TOKEN=DEMO_TOKEN, DEMO_BACKGROUND_LOAD="0",
    )  # fmt: skip


@pytest.fixture
def spring_target() -> Iterator[Target]:
    yield from _target("tests.flags.targets:spring_app", 1)


@pytest.fixture
def isolated_target() -> Iterator[Target]:
    """Two workers that do not share levels: a change reaches one of them."""
    yield from _target("tests.flags.targets:isolated_app", 2)


@pytest.fixture
def flaky_write_target() -> Iterator[Target]:
    yield from _target("tests.flags.targets:flaky_write_app", 1)
