"""`/healthz`: application/health+json with database and broker checks."""

import json
import os
import time
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from prodbug_site.celery import app as celery_app
from prodbug_site.models import Heartbeat


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> None:
    # A pooled connection: the probe must not open a new socket on every call.
    with celery_app.pool.acquire(block=True, timeout=2) as conn:
        conn.ensure_connection(max_retries=1)
        channel = conn.default_channel
        if hasattr(channel, "client"):  # redis
            channel.client.ping()
        folder = conn.transport_options.get("data_folder_in")
        if folder and not os.access(folder, os.W_OK):  # filesystem
            raise OSError(f"broker folder {folder} is not writable")


def _run(check: Callable[[], None]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return {"status": "fail", "output": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "status": "pass",
        "observedValue": round((time.perf_counter() - started) * 1000, 2),
        "observedUnit": "ms",
    }


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    checks = {
        "database:responseTime": _run(_check_database),
        "broker:responseTime": _run(_check_broker),
    }
    ok = all(c["status"] == "pass" for c in checks.values())
    # A missing worker does not make the web tier unhealthy, but it must be visible.
    checks["worker:heartbeat"] = {"status": "warn" if Heartbeat.is_stale() else "pass"}
    body = {
        "status": "pass" if ok else "fail",
        "serviceId": "prodbug",
        "checks": {name: [result] for name, result in checks.items()},
    }
    return HttpResponse(
        json.dumps(body),
        status=200 if ok else 503,
        content_type="application/health+json",
        headers={"Cache-Control": "no-store"},
    )
