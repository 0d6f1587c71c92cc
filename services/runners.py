"""Health-check runners: every check of a run concurrently in one event loop, each bounded
by its own timeout, so a slow or silent target never delays the others."""

import asyncio
import contextlib
import contextvars
import errno
import ipaddress
import shutil
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil
import psycopg
import redis.asyncio as aioredis
import yarl

from prodbug_site.aio import run_sync
from services import targets

BODY_LIMIT = 1_000_000


@dataclass(frozen=True)
class CheckSpec:
    id: int
    kind: str
    target: str
    timeout_s: float
    method: str = "GET"
    expect: tuple[int, int] = (200, 399)
    body_contains: str = ""
    follow_redirects: bool = False
    warn_cpu: int = 90
    warn_memory: int = 90
    warn_disk: int = 90
    display_target: str = ""


@dataclass
class Outcome:
    ok: bool
    latency_ms: float | None = None
    status_code: int | None = None
    error: str = ""
    warning: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class CheckFailed(Exception):
    """A check ran and the target is unhealthy; the message is the reason."""


# Per run: each distinct host is resolved once, not once per check (getaddrinfo runs in a
# small thread pool, so 500 lookups of one name would queue behind each other).
_resolved: contextvars.ContextVar[dict[str, asyncio.Future[list[str]]]] = contextvars.ContextVar(
    "resolved"
)


async def _addresses(host: str, port: int) -> list[str]:
    cache = _resolved.get()
    if host not in cache:
        loop = asyncio.get_running_loop()

        async def resolve() -> list[str]:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            return [str(info[4][0]) for info in infos]

        cache[host] = asyncio.ensure_future(resolve())
    return await asyncio.shield(cache[host])


async def _refuse_forbidden(host: str, port: int) -> None:
    """Names can resolve to metadata addresses too: check what the name resolves to."""
    if targets.forbidden_address(host):
        raise CheckFailed(f"refused: {host} is a link-local/metadata address")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return  # a literal address, already checked
    except ValueError:
        pass
    for address in await _addresses(host, port):
        if targets.forbidden_address(address):
            raise CheckFailed(f"refused: {host} resolves to {address} (link-local/metadata)")


MAX_REDIRECTS = 5


async def _http(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    url = spec.target
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise CheckFailed(f"refused: redirect to a {parts.scheme or 'relative'} URL")
        # Every hop is checked, so a redirect cannot lead to a metadata address.
        await _refuse_forbidden(parts.hostname or "", parts.port or 443)
        async with session.request(spec.method, url, allow_redirects=False) as response:
            location = response.headers.get("Location")
            if spec.follow_redirects and 300 <= response.status < 400 and location:
                url = str(response.url.join(yarl.URL(location)))
                continue
            body = b""
            if spec.body_contains and spec.method != "HEAD":
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > BODY_LIMIT or spec.body_contains.encode() in body:
                        break
            status = response.status
        break
    else:
        raise CheckFailed(f"more than {MAX_REDIRECTS} redirects")
    low, high = spec.expect
    if not low <= status <= high:
        expected = str(low) if low == high else f"{low}-{high}"
        raise CheckFailed(f"status {status} (expected {expected})", status)
    if spec.body_contains and spec.body_contains.encode() not in body:
        raise CheckFailed(f"body does not contain {spec.body_contains!r}", status)
    return Outcome(ok=True, status_code=status)


async def _tcp(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    target = targets.parse_host_port(spec.target)
    await _refuse_forbidden(target.host, target.port)
    _reader, writer = await asyncio.open_connection(target.host, target.port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(ok=True)


async def _postgres(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    params = targets.parse_postgres_dsn(spec.target)
    for host in (params.get("host") or "localhost").split(","):
        if not host.startswith("/"):
            await _refuse_forbidden(host, int(params.get("port") or 5432))
    connect_timeout = max(1, round(spec.timeout_s))
    conn = await psycopg.AsyncConnection.connect(
        spec.target, connect_timeout=connect_timeout, autocommit=True
    )
    try:
        await conn.execute("SELECT 1")
    finally:
        await conn.close()
    return Outcome(ok=True)


async def _redis(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    parts = urlsplit(spec.target)
    if parts.scheme != "unix":
        await _refuse_forbidden(parts.hostname or "", parts.port or 6379)
    connection = aioredis.from_url(
        spec.target, socket_timeout=spec.timeout_s, socket_connect_timeout=spec.timeout_s
    )
    try:
        await connection.ping()
    finally:
        await connection.aclose()
    return Outcome(ok=True)


def _system_sample(spec: CheckSpec) -> Outcome:
    cpu = psutil.cpu_percent(interval=min(0.5, spec.timeout_s / 2))
    memory = psutil.virtual_memory().percent
    disk = shutil.disk_usage("/")
    disk_percent = round(100 * disk.used / disk.total, 1)
    load1, load5, load15 = psutil.getloadavg()
    details = {
        "host": socket.gethostname(),
        "cpu_percent": cpu,
        "memory_percent": memory,
        "disk_percent": disk_percent,
        "load": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "cpus": psutil.cpu_count(),
    }
    warnings = [
        f"{name} {value:.0f}% ≥ {limit}%"
        for name, value, limit in (
            ("CPU", cpu, spec.warn_cpu),
            ("memory", memory, spec.warn_memory),
            ("disk", disk_percent, spec.warn_disk),
        )
        if value >= limit
    ]
    return Outcome(ok=True, warning=", ".join(warnings), details=details)


async def _system(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    return await asyncio.to_thread(_system_sample, spec)


RUNNERS: dict[str, Callable[[CheckSpec, aiohttp.ClientSession], Awaitable[Outcome]]] = {
    "http": _http,
    "tcp": _tcp,
    "postgres": _postgres,
    "redis": _redis,
    "system": _system,
}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 10:
        current = todo.pop()
        if current is None or current in seen:
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
        todo += list(getattr(current, "exceptions", []))  # exception groups
    return seen


def _refused(exc: BaseException) -> bool:
    return (
        isinstance(exc, ConnectionRefusedError)
        or getattr(exc, "errno", None) == errno.ECONNREFUSED
        or "Connection refused" in str(exc)
        or "Error 111 " in str(exc)
    )


def describe_error(exc: BaseException, spec: CheckSpec) -> str:
    """A short, human reason; never the raw target (it may hold a password)."""
    if any(_refused(e) for e in _chain(exc)):
        text = "connection refused"
    elif isinstance(exc, socket.gaierror):
        text = f"cannot resolve host ({exc.strerror})"
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if spec.kind in ("postgres", "redis") and spec.target:
        text = text.replace(spec.target, spec.display_target)
    return text[:480]


async def _run_one(spec: CheckSpec, session: aiohttp.ClientSession) -> Outcome:
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        async with asyncio.timeout(spec.timeout_s):
            outcome = await RUNNERS[spec.kind](spec, session)
    except TimeoutError:
        return Outcome(False, elapsed(), error=f"timed out after {spec.timeout_s * 1000:.0f} ms")
    except CheckFailed as failure:
        status = failure.args[1] if len(failure.args) > 1 else None
        return Outcome(False, elapsed(), status_code=status, error=str(failure.args[0]))
    except Exception as exc:
        return Outcome(False, elapsed(), error=describe_error(exc, spec))
    outcome.latency_ms = elapsed()
    return outcome


async def run_all(specs: list[CheckSpec]) -> dict[int, Outcome]:
    """Run every check at once; each result arrives within its own timeout."""
    _resolved.set({})
    # aiohttp rather than httpx here: at 500 concurrent checks httpx spent ~0.5 ms of CPU
    # per request (its pool scans every connection per request), aiohttp a fraction of it.
    connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=ssl.create_default_context())
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        outcomes = await asyncio.gather(*(_run_one(spec, session) for spec in specs))
    return {spec.id: outcome for spec, outcome in zip(specs, outcomes, strict=True)}


def run_checks(specs: list[CheckSpec], *, budget_s: float) -> dict[int, Outcome]:
    """Run the checks from synchronous code (a Celery task), within `budget_s` overall."""
    return run_sync(lambda: asyncio.wait_for(run_all(specs), budget_s))
