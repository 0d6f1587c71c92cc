"""Shared fixtures. Real components (PostgreSQL, Redis, Chromium, a Celery worker) are
used when present; PRODBUG_TEST_REQUIRE=postgres,redis,browser,worker turns their
absence into a failure instead of a skip (CI sets it)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from accounts.models import ApiToken
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {c.strip() for c in os.environ.get("PRODBUG_TEST_REQUIRE", "").split(",") if c.strip()}


def need(component: str, available: bool, reason: str) -> None:
    """Skip when `component` is missing, or fail when the run requires it."""
    if available:
        return
    if component in REQUIRED:
        pytest.fail(f"{component} is required (PRODBUG_TEST_REQUIRE) but missing: {reason}")
    pytest.skip(f"{component} not available: {reason}")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Page fragments are cached by (session id, version), the flag snapshot by the flags
    # version: both numbers repeat across rolled-back tests, never in a real database.
    from django.core.cache import cache

    from flags import evaluation

    cache.clear()
    evaluation._snapshot = (-1, {})


@pytest.fixture(autouse=True)
def _migration_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the database afterwards, taking the roles and the default
    checklist (data migrations) with it; put them back for the tests that follow."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker and marker.kwargs.get("transaction")) or any(
        f in request.fixturenames for f in ("transactional_db", "live_server", "celery_worker")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        load_migration_data()


def load_migration_data() -> None:
    from django.apps import apps

    for name in ("viewer", "responder", "admin"):
        Group.objects.get_or_create(name=name)
    default_checklist = import_module("sessions.migrations.0002_default_checklist")
    default_checklist.load(apps, None)


def _user(username: str, *groups: str, **extra: object) -> User:
    user = UserFactory(username=username, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def viewer(db: None) -> User:
    return _user("vera", "viewer")


@pytest.fixture
def responder(db: None) -> User:
    return _user("rita", "responder")


@pytest.fixture
def teammate(db: None) -> User:
    return _user("tom", "responder")


@pytest.fixture
def admin(db: None) -> User:
    return _user("ada", "admin")


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def token_for() -> Callable[..., str]:
    def make(user: User, scope: str = ApiToken.Scope.API) -> str:
        return ApiToken.issue(user=user, scope=scope)

    return make


# --- A real Celery worker -------------------------------------------------------------------


def _database_url_for_worker() -> str:
    """The URL of the database this test run really uses (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def running_worker(*args: str, name: str = "test") -> Iterator[subprocess.Popen[bytes]]:
    """A real prefork worker on the configured broker (extra `args`, e.g. `-Q queue`), on the
    test database, stopped on exit."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "PRODBUG_VAR_DIR": str(settings.VAR_DIR),
        "LOG_LEVEL": "INFO",
    }
    log_path = Path(settings.VAR_DIR) / f"worker-{name}-{os.getpid()}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prodbug_site", "worker", "--pool", "prefork",
             "--concurrency", "2", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
             "-n", f"{name}-{os.getpid()}@%h", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            need("worker", False, f"worker exited: {log_path.read_text()[-2000:]}")
        if b"ready." in log_path.read_bytes():
            break
        time.sleep(0.2)
    else:
        proc.kill()
        need("worker", False, f"worker not ready in 30 s: {log_path.read_text()[-2000:]}")
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real prefork worker on the default queue, stopped after the test."""
    with running_worker() as proc:
        yield proc


@pytest.fixture
def celery_beat(celery_worker: subprocess.Popen[bytes], tmp_path: Path) -> Iterator[None]:
    """Real Celery beat beside the worker, with a 1 s log-level sweeper."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "PRODBUG_VAR_DIR": str(settings.VAR_DIR),
        "PRODBUG_REVERT_SWEEP_S": "1",
    }
    log_path = tmp_path / "beat.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prodbug_site", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """Close connections at the end of each request in tests: a live server's request
    threads would otherwise keep theirs open and block dropping the test database."""
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
