"""The demo shop, served for real by gunicorn with two worker processes, over HTTP.

No database: the demo is a standalone WSGI app. Each server gets its own state directory
and its stderr (the JSON log lines) goes to a file that the tests read.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "demo-test-token-5f0c2a"
MODULE = "demo_shop.checkout"


@dataclass
class Demo:
    url: str
    state_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        """One request on a fresh connection (so any worker may answer it)."""
        return httpx.get(self.url + path, timeout=15, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.post(self.url + path, timeout=15, **kwargs)  # type: ignore[arg-type]

    def log_records(self) -> list[dict]:
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):  # a line still being written
                    records.append(json.loads(line))
        return records

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.log_records() if predicate(r)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no such log line in {timeout} s:\n{self.log_path.read_text()[-3000:]}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def run_demo(tmp: Path, **env: str | None) -> Iterator[Demo]:
    """gunicorn demo_shop.app:app with 2 workers on a free port; stopped afterwards."""
    state_dir = tmp / "state"
    environ = {**os.environ, "DEMO_STATE_DIR": str(state_dir), "DEMO_ADMIN_TOKEN": TOKEN}
    environ.pop("DEMO_ADMIN_TOKEN_FILE", None)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    port = _free_port()
    log_path = tmp / "demo-stderr.log"
    with log_path.open("wb") as log:
        # --no-control-socket: gunicorn's default control socket is one shared path per user.
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "demo_shop.app:app",
             "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket"],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    demo = Demo(f"http://127.0.0.1:{port}", state_dir, log_path, proc)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"demo exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                if demo.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"demo not up in 20 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield demo
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with run_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


def spread(send: Callable[[], httpx.Response], at_least: int = 40) -> list[httpx.Response]:
    """At least `at_least` responses to `send()` (each on a fresh connection, a few at a
    time), going on until both workers have answered."""
    responses: list[httpx.Response] = []
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(max_workers=6) as pool:
        while len(responses) < at_least or len(pids(responses)) < 2:
            if time.monotonic() > deadline:
                raise AssertionError(f"only workers {pids(responses)} answered")
            responses += pool.map(lambda _: send(), range(6))
    return responses


def pids(responses: list[httpx.Response]) -> set[str]:
    return {r.headers["X-Demo-Pid"] for r in responses}


def admin(token: str = TOKEN) -> dict[str, str]:
    return {"admin_token": token}


def set_level(demo: Demo, level: str | None, module: str = MODULE) -> httpx.Response:
    return demo.post("/admin/log-level", json={"module": module, "level": level}, headers=admin())


def get_level(demo: Demo, module: str = MODULE) -> httpx.Response:
    return demo.get("/admin/log-level", params={"module": module}, headers=admin())


@pytest.fixture
def reset_checkout_level(demo: Demo) -> Iterator[None]:
    yield
    assert set_level(demo, None).status_code == 200


# --- Health and routing ----------------------------------------------------------------------


def test_health_is_health_json_from_two_workers(demo: Demo) -> None:
    response = demo.get("/health")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert body["serviceId"] == "demo-shop"
    assert body["checks"]["uptime"][0]["observedValue"] >= 0
    assert str(body["checks"]["process:pid"][0]["observedValue"]) == response.headers["X-Demo-Pid"]
    assert body["checks"]["background-load:thread"][0]["observedValue"] == "running"

    answers = spread(lambda: demo.get("/health"))
    reported = {r.json()["checks"]["process:pid"][0]["observedValue"] for r in answers}
    assert len(reported) == 2
    assert demo.proc.pid not in reported  # workers, not the gunicorn master


def test_index_unknown_path_and_wrong_method(demo: Demo) -> None:
    index = demo.get("/")
    assert index.status_code == 200
    assert "/checkout?items=N" in {e["path"] for e in index.json()["endpoints"]}

    missing = demo.get("/nope")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/json"
    assert "error" in missing.json()

    wrong = demo.post("/health")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, HEAD"
    assert "error" in wrong.json()
    assert httpx.delete(demo.url + "/admin/log-level", headers=admin()).status_code == 405


# --- Log levels ------------------------------------------------------------------------------


def test_log_level_needs_the_admin_token(demo: Demo) -> None:
    for headers in ({}, admin("wrong"), admin(TOKEN + "x"), {"admin_token": ""}):
        read = demo.get("/admin/log-level", params={"module": MODULE}, headers=headers)
        write = demo.post(
            "/admin/log-level", json={"module": MODULE, "level": "DEBUG"}, headers=headers
        )
        assert read.status_code == write.status_code == 403, headers
        assert "error" in read.json() and "error" in write.json()

    assert get_level(demo).json() == {"module": MODULE, "level": "INFO"}


@pytest.mark.parametrize(
    "body",
    [
        {"module": MODULE, "level": "TRACE"},
        {"module": MODULE, "level": "verbose"},
        {"module": MODULE, "level": 10},
        {"module": MODULE},
        {"module": "1demo", "level": "DEBUG"},
        {"module": "demo shop", "level": "DEBUG"},
        {"module": "demo/../x", "level": "DEBUG"},
        {"module": "a" * 201, "level": "DEBUG"},
        {"module": "", "level": "DEBUG"},
        {"level": "DEBUG"},
        ["demo_shop", "DEBUG"],
    ],
)
def test_log_level_rejects_bad_input(demo: Demo, body: object) -> None:
    response = demo.post("/admin/log-level", json=body, headers=admin())

    assert response.status_code == 400
    assert "error" in response.json()


def test_log_level_rejects_bad_json_and_bad_module_names(demo: Demo) -> None:
    bad_json = demo.post("/admin/log-level", content=b"{module", headers=admin())
    assert bad_json.status_code == 400

    for params in ({}, {"module": ""}, {"module": "9lives"}, {"module": "x\n"}):
        response = demo.get("/admin/log-level", params=params, headers=admin())
        assert response.status_code == 400, params

    assert get_level(demo, "a" + "b" * 199).json()["level"] == "INFO"  # 200 characters: fine


def test_log_level_set_in_one_worker_is_in_force_in_all(
    demo: Demo, reset_checkout_level: None
) -> None:
    changed = set_level(demo, "debug")

    assert changed.status_code == 200
    assert changed.json() == {
        "module": MODULE,
        "level": "DEBUG",
        "previous": "INFO",
        "effective": "DEBUG",
    }
    assert get_level(demo).json() == {"module": MODULE, "level": "DEBUG"}  # right away
    answers = spread(lambda: get_level(demo))
    assert {r.json()["level"] for r in answers} == {"DEBUG"}
    assert pids(answers) - {changed.headers["X-Demo-Pid"]}  # the other worker answered too
    assert get_level(demo, MODULE + ".tax").json()["level"] == "DEBUG"  # children inherit
    assert get_level(demo, "demo_shop.http").json()["level"] == "INFO"  # others unchanged

    back = set_level(demo, "INFO")

    assert back.json()["previous"] == "DEBUG"
    answers = spread(lambda: get_level(demo))
    assert {r.json()["level"] for r in answers} == {"INFO"}

    raised = set_level(demo, "ERROR")
    assert raised.json()["level"] == "ERROR"
    reset = set_level(demo, None)
    assert reset.json() == {
        "module": MODULE,
        "level": "NOTSET",
        "previous": "ERROR",
        "effective": "INFO",
    }
    answers = spread(lambda: get_level(demo))
    assert {r.json()["level"] for r in answers} == {"INFO"}
    assert json.loads((demo.state_dir / "log-levels.json").read_text())["levels"] == {}


def test_debug_level_shows_discount_lines(demo: Demo, reset_checkout_level: None) -> None:
    def checkout(trace_id: str) -> None:
        traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
        response = demo.get("/checkout?items=3", headers={"traceparent": traceparent})
        assert response.status_code == 200
        demo.wait_for_log(lambda r: r.get("trace_id") == trace_id and r["event"] == "request")

    def discount_lines(trace_id: str) -> list[dict]:
        return [
            r
            for r in demo.log_records()
            if r.get("trace_id") == trace_id and r["event"] == "discount computed"
        ]

    checkout("11111111111111111111111111111111")
    assert discount_lines("11111111111111111111111111111111") == []

    set_level(demo, "DEBUG")
    checkout("22222222222222222222222222222222")
    lines = discount_lines("22222222222222222222222222222222")
    assert len(lines) == 3
    assert {r["logger"] for r in lines} == {MODULE}
    assert {r["level"] for r in lines} == {"debug"}

    set_level(demo, None)
    checkout("33333333333333333333333333333333")
    assert discount_lines("33333333333333333333333333333333") == []


def test_generated_admin_token_is_shared_by_both_workers(tmp_path: Path) -> None:
    with run_demo(tmp_path, DEMO_ADMIN_TOKEN=None, DEMO_BACKGROUND_LOAD="0") as demo:
        token_file = demo.state_dir / "admin_token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32

        answers = spread(
            lambda: demo.get(
                "/admin/log-level", params={"module": "demo_shop"}, headers={"admin_token": token}
            ),
            at_least=10,
        )

        assert {r.status_code for r in answers} == {200}
        health = demo.get("/health").json()
        assert health["checks"]["background-load:thread"][0]["observedValue"] == "disabled"


# --- Checkout and traces ---------------------------------------------------------------------


def test_checkout_prices_a_cart(demo: Demo) -> None:
    default = demo.get("/checkout")
    assert default.status_code == 200
    assert default.json()["items"] == 200
    receipt = demo.get("/checkout", params={"items": 5}).json()
    assert receipt["items"] == 5
    total = Decimal(receipt["total"])
    assert total > 0
    assert total == Decimal(receipt["subtotal"]) - Decimal(receipt["discount"]) + Decimal(
        receipt["tax"]
    )
    assert demo.get("/checkout", params={"items": 5}).json() == receipt  # deterministic

    for items in ("0", "abc", "5001", "", "-1", "1.5"):
        response = demo.get("/checkout", params={"items": items})
        assert response.status_code == 400, items
        assert "error" in response.json()


def test_request_log_line_carries_the_trace_id(demo: Demo) -> None:
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"

    response = demo.get("/checkout?items=2", headers={"traceparent": f"00-{trace_id}-{parent}-01"})

    echoed = response.headers["traceparent"]
    assert re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-01", echoed)
    span_id = echoed.split("-")[2]
    assert span_id != parent
    [line] = demo.wait_for_log(lambda r: r.get("trace_id") == trace_id and r["event"] == "request")
    assert line["logger"] == "demo_shop.http"
    assert line["method"] == "GET"
    assert line["path"] == "/checkout"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert str(line["pid"]) == response.headers["X-Demo-Pid"]
    assert line["span_id"] == span_id
    assert line["parent_span_id"] == parent


def test_invalid_traceparent_gets_a_fresh_trace_id(demo: Demo) -> None:
    for bad in ("garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", "00-ABC-00-01"):
        response = demo.get("/health", headers={"traceparent": bad})
        version, trace_id, _span, _flags = response.headers["traceparent"].split("-")
        assert version == "00"
        assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "0" * 32
        demo.wait_for_log(lambda r, t=trace_id: r.get("trace_id") == t and r["event"] == "request")
