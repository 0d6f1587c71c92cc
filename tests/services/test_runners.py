"""The runners against real servers on 127.0.0.1, PostgreSQL and Redis."""

import os
import time
from urllib.parse import urlsplit

from django.conf import settings

from services.runners import CheckSpec, run_checks
from tests.conftest import need


def run(*specs: CheckSpec) -> dict:
    return run_checks(list(specs), budget_s=30)


def http(i: int, url: str, **kw: object) -> CheckSpec:
    return CheckSpec(id=i, kind="http", target=url, timeout_s=kw.pop("timeout_s", 2.0), **kw)


def test_http_ok_and_failures(http_target: str) -> None:
    out = run(
        http(1, f"{http_target}/health", body_contains="pass"),
        http(2, f"{http_target}/status/503"),
        http(3, f"{http_target}/health", body_contains="nope"),
        http(4, f"{http_target}/redirect", expect=(200, 200)),
        http(5, f"{http_target}/redirect", expect=(200, 200), follow_redirects=True),
        http(6, f"{http_target}/status/204", method="HEAD", expect=(204, 204)),
    )
    assert out[1].ok and out[1].status_code == 200 and out[1].latency_ms > 0
    assert not out[2].ok and out[2].status_code == 503
    assert out[2].error == "status 503 (expected 200-399)"
    assert not out[3].ok and "does not contain 'nope'" in out[3].error
    assert not out[4].ok and out[4].status_code == 302  # redirects are not followed...
    assert out[5].ok  # ...unless asked
    assert out[6].ok


def test_a_slow_check_fails_at_its_timeout_without_delaying_others(http_target: str) -> None:
    started = time.perf_counter()
    out = run(
        http(1, f"{http_target}/health?delay_ms=3000", timeout_s=0.5),
        http(2, f"{http_target}/health?delay_ms=300", timeout_s=2.0),
        http(3, f"{http_target}/health"),
    )
    elapsed = time.perf_counter() - started
    assert not out[1].ok and out[1].error == "timed out after 500 ms"
    assert 450 <= out[1].latency_ms < 1500
    assert out[2].ok and out[2].latency_ms < 1500
    assert out[3].ok and out[3].latency_ms < 300
    assert elapsed < 2.5  # concurrently, not 3.8 s one after another


def test_silent_and_closed_ports(silent_port: int, closed_port: int) -> None:
    out = run(
        http(1, f"http://127.0.0.1:{silent_port}/", timeout_s=0.4),
        http(2, f"http://127.0.0.1:{closed_port}/"),
        CheckSpec(id=3, kind="tcp", target=f"127.0.0.1:{silent_port}", timeout_s=1),
        CheckSpec(id=4, kind="tcp", target=f"127.0.0.1:{closed_port}", timeout_s=1),
    )
    assert not out[1].ok and out[1].error == "timed out after 400 ms"
    assert not out[2].ok and out[2].error == "connection refused"
    assert out[3].ok  # the handshake completes: the port is open
    assert not out[4].ok and out[4].error == "connection refused"


def test_names_resolving_to_metadata_addresses_are_refused() -> None:
    out = run(http(1, "http://169.254.169.254/latest/meta-data/"))
    assert not out[1].ok and "refused" in out[1].error and "metadata" in out[1].error


def _pg_dsn() -> str:
    db = settings.DATABASES["default"]
    need("postgres", db["ENGINE"].endswith("postgresql"), "tests are not on PostgreSQL")
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def test_postgres_passing_and_failing() -> None:
    dsn = _pg_dsn()
    parts = urlsplit(dsn)
    secret = "hunter2-secret"
    missing_db = f"postgresql://{parts.username}:{secret}@{parts.hostname}:{parts.port}/no_such_db"
    out = run(
        CheckSpec(id=1, kind="postgres", target=dsn, timeout_s=3),
        CheckSpec(
            id=2,
            kind="postgres",
            target=missing_db,
            timeout_s=3,
            display_target=missing_db.replace(secret, "***"),
        ),
        CheckSpec(id=3, kind="postgres", target="postgresql://u@127.0.0.1:1/x", timeout_s=3),
    )
    assert out[1].ok
    assert not out[2].ok and "no_such_db" in out[2].error and secret not in out[2].error
    assert not out[3].ok and "refused" in out[3].error.lower()


def test_redis_passing_and_failing(closed_port: int) -> None:
    url = os.environ.get("REDIS_URL", "")
    need("redis", url.startswith("redis://"), "REDIS_URL not set")
    out = run(
        CheckSpec(id=1, kind="redis", target=url, timeout_s=2),
        CheckSpec(id=2, kind="redis", target=f"redis://127.0.0.1:{closed_port}/0", timeout_s=2),
    )
    assert out[1].ok
    assert not out[2].ok and "refused" in out[2].error.lower()


def test_system_check_reports_host_metrics() -> None:
    out = run(CheckSpec(id=1, kind="system", target="", timeout_s=2, warn_disk=1))
    result = out[1]
    assert result.ok
    assert {"cpu_percent", "memory_percent", "disk_percent", "load"} <= result.details.keys()
    assert "disk" in result.warning  # threshold of 1 % is always crossed
