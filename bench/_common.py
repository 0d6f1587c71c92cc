"""Shared pieces of the benchmarks: a private Prodbug instance, gunicorn, a load loop."""

import asyncio
import atexit
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> Path:
    """Point Prodbug at a throwaway var/ (and database, unless DATABASE_URL is set)."""
    var = Path(tempfile.mkdtemp(prefix="prodbug-bench-"))
    os.environ.setdefault("PRODBUG_VAR_DIR", str(var))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prodbug_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        # A shared server: use a database of our own and drop it afterwards.
        from django.db import connection

        name = f"prodbug_bench_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        from django.conf import settings

        admin_db = connection.settings_dict["NAME"]
        settings.DATABASES["default"]["NAME"] = name
        atexit.register(_drop_database, name, admin_db)
        connection.close()
        connection.settings_dict["NAME"] = name
        os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
    call_command("migrate", verbosity=0)
    return var


def _drop_database(name: str, admin_db: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    params = connections["default"].get_connection_params()
    params["dbname"] = admin_db
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def login_cookie(username: str) -> str:
    """A real session cookie for `username`, as the login form would set."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.get(username=username)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key or ""


@contextmanager
def gunicorn(port: int, workers: int = 2, threads: int = 4) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "prodbug_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--keep-alive", "75",
         "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def load(
    url: str,
    *,
    clients: int,
    seconds: float,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    json: object = None,
    expect: int = 200,
) -> dict[str, float]:
    """`clients` concurrent keep-alive clients hitting `url` for `seconds`."""

    async def run() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        stop = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(cookies=cookies, headers=headers, limits=limits) as client:

            async def one() -> None:
                nonlocal errors
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    try:
                        response = await client.request(method, url, json=json, timeout=30)
                    except httpx.HTTPError:
                        errors += 1
                        continue
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != expect:
                        errors += 1

            await asyncio.gather(*(one() for _ in range(clients)))
        return latencies, errors

    latencies, errors = asyncio.run(run())
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "n": len(latencies),
        "rps": len(latencies) / seconds,
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "errors": errors,
    }


def fmt(name: str, r: dict[str, float]) -> str:
    return (
        f"{name:<28} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   "
        f"{r['rps']:7.1f} req/s   n={int(r['n'])} errors={int(r['errors'])}"
    )
