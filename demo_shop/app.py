"""The demo shop: a small, real WSGI service that Prodbug users can debug.

Run it the way ``make run`` does (two worker processes)::

    .venv/bin/gunicorn demo_shop.app:app --bind 127.0.0.1:8001 --workers 2

It needs only the standard library and structlog (no Django).

Endpoints
---------
``GET /``
    JSON index of these endpoints.
``GET /health``
    ``application/health+json``: ``{"status": "pass", "serviceId": "demo-shop", "checks":
    {...}}`` with the worker's uptime, pid, log-level sync and background-load thread.
``GET /checkout?items=N``
    Prices a cart of N items (1–5000, default 200): ``price_cart`` → ``apply_discounts``
    → ``compute_tax``, real hashing and arithmetic, about 20–80 ms at the default.
    Answers the receipt (money as decimal strings); 400 for a bad N.
``GET /admin/log-level?module=NAME``
    ``{"module": NAME, "level": "INFO"}``: the effective level of stdlib logger NAME in
    the worker that answers.
``POST /admin/log-level`` ``{"module": NAME, "level": "DEBUG"}``
    Sets the level in every worker; answers ``{"module", "level", "previous",
    "effective"}``. ``"level": null`` (or ``"NOTSET"``) removes the override: the logger
    inherits again. Levels: DEBUG, INFO, WARNING, ERROR, CRITICAL (any case).

Both admin endpoints need the header ``admin_token: <token>`` (``Admin-Token`` is the
same header to a WSGI server) and answer 403 without it. Module names match
``^[A-Za-z_][A-Za-z0-9_.]{0,199}$`` (400 otherwise). Unknown paths answer 404 and wrong
methods 405, both JSON. Every response carries ``traceparent`` (the caller's trace id, or a
new one, with this request's span id) and ``X-Demo-Pid`` (the worker that answered).

Log levels are shared between the workers through ``<state dir>/log-levels.json`` (see
:mod:`demo_shop.levels`); a change made through one worker is in force in the others by
their next request, and within 0.25 s when idle. Overrides survive a restart until reset.

Gunicorn (since 22) drops request headers whose names contain ``_`` — ``admin_token``
among them — unless configured otherwise. When the app is loaded in a gunicorn worker it
therefore adds ``ADMIN_TOKEN`` to that worker's ``forwarder_headers``: the header is then
accepted from peers in ``--forwarded-allow-ips`` (default 127.0.0.1 and ::1). Clients on
other hosts can send ``Admin-Token`` instead, or run gunicorn with
``--forwarded-allow-ips``. (With ``--preload`` the app cannot do this; pass
``--forwarder-headers SCRIPT_NAME,PATH_INFO,ADMIN_TOKEN``.)

Logs are JSON lines on stderr, one per request from ``demo_shop.http`` (method, path,
status, duration_ms, pid, trace_id, span_id); ``demo_shop.checkout`` logs every discount
it computes at DEBUG, so raising that logger to DEBUG visibly changes the output.

Each worker runs a background thread that recomputes recommendations
(``recompute_recommendations`` → ``score_products``: about 20 ms of CPU every 120 ms), so
a sampling profile of an idle worker still shows real frames.

Environment
-----------
``DEMO_STATE_DIR``
    Shared state (log levels, generated admin token); default ``var/demo`` under the
    working directory.
``DEMO_ADMIN_TOKEN``
    The admin token. Else ``DEMO_ADMIN_TOKEN_FILE`` names a file holding it. Else it is
    read from ``<state dir>/admin_token``, created (mode 0600, random) when missing.
``DEMO_BACKGROUND_LOAD``
    ``0`` turns the background recommendations thread off.
``DEMO_LOG_LEVEL``
    Root logger level (default INFO).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import logging
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog

from demo_shop.levels import LEVELS, LevelStore, effective_level_name

SERVICE_ID = "demo-shop"
MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}")
TRACEPARENT_RE = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
ITEMS_RE = re.compile(r"[0-9]{1,6}")
DEFAULT_ITEMS, MAX_ITEMS = 200, 5000
MAX_BODY = 16 * 1024

http_log = structlog.stdlib.get_logger("demo_shop.http")
admin_log = structlog.stdlib.get_logger("demo_shop.admin")
checkout_log = structlog.stdlib.get_logger("demo_shop.checkout")
reco_log = structlog.stdlib.get_logger("demo_shop.recommendations")
app_log = structlog.stdlib.get_logger("demo_shop.app")


# --- Logging ---------------------------------------------------------------------------------


def _add_pid(_logger: object, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    event.setdefault("pid", os.getpid())
    return event


def configure_logging() -> None:
    """JSON lines on stderr for structlog and stdlib loggers alike (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "_demo_shop", False) for h in root.handlers):
        return
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _add_pid,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler._demo_shop = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    level = os.environ.get("DEMO_LOG_LEVEL", "").strip().upper() or "INFO"
    root.setLevel(level if level in LEVELS else "INFO")


# --- Configuration ---------------------------------------------------------------------------


def state_dir() -> Path:
    return Path(os.environ.get("DEMO_STATE_DIR", "").strip() or "var/demo").absolute()


def load_admin_token(state: Path) -> tuple[str, str]:
    """The admin token and where it came from (never log the token itself)."""
    token = os.environ.get("DEMO_ADMIN_TOKEN", "").strip()
    if token:
        return token, "DEMO_ADMIN_TOKEN"
    file = os.environ.get("DEMO_ADMIN_TOKEN_FILE", "").strip()
    if file:
        token = Path(file).read_text().strip()
        if not token:
            raise RuntimeError(f"DEMO_ADMIN_TOKEN_FILE {file} is empty")
        return token, file
    path = state / "admin_token"
    return _token_file(path), str(path)


def _token_file(path: Path) -> str:
    """Read ``path``, or create it with a random token; safe when workers race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        deadline = time.monotonic() + 2
        while True:  # the winner may not have written it yet
            token = path.read_text().strip()
            if token:
                return token
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} is empty: delete it or put a token in it") from None
            time.sleep(0.01)
    token = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    return token


def _gunicorn_host() -> tuple[Any, bool]:
    """The gunicorn worker or arbiter this code runs in, found through its signal handlers
    (bound methods of it), and whether it is a worker; ``(None, False)`` outside gunicorn."""
    if "gunicorn" not in sys.modules:
        return None, False
    try:
        from gunicorn.arbiter import Arbiter
        from gunicorn.workers.base import Worker
    except ImportError:
        return None, False
    owner = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    if isinstance(owner, Worker):
        return owner, True
    return (owner, False) if isinstance(owner, Arbiter) else (None, False)


def _admit_admin_token_header(host: Any) -> None:
    """Let gunicorn pass the ``admin_token`` header (it drops names with ``_``) from
    trusted peers, through its documented ``forwarder_headers`` setting."""
    try:
        names = list(host.cfg.forwarder_headers)
        if "ADMIN_TOKEN" not in names and "*" not in names:
            host.cfg.set("forwarder_headers", ",".join([*names, "ADMIN_TOKEN"]))
    except Exception as exc:
        app_log.warning("cannot admit the admin_token header", error=repr(exc))


# --- Checkout: the CPU-heavy request ---------------------------------------------------------

CENT = Decimal("0.01")
PRODUCT_HASH_ROUNDS = 240
DISCOUNT_TERMS = 700
TAX_RATES = (  # per tax class: state, county, city, district
    (Decimal("0.0600"), Decimal("0.0100"), Decimal("0.0050"), Decimal("0.0025")),
    (Decimal("0.1900"), Decimal("0"), Decimal("0"), Decimal("0")),
    (Decimal("0.0700"), Decimal("0.0025"), Decimal("0"), Decimal("0.0010")),
)


def lookup_product(index: int) -> tuple[str, int, int, int]:
    """(sku, unit price in cents, quantity, tax class) of cart line ``index``."""
    sku = f"SKU-{index:05d}"
    digest = sku.encode()
    for _ in range(PRODUCT_HASH_ROUNDS):
        digest = hashlib.sha256(digest).digest()
    unit_cents = 199 + int.from_bytes(digest[:4], "big") % 9800
    return sku, unit_cents, 1 + digest[4] % 3, digest[5] % len(TAX_RATES)


def loyalty_rate(position: int, unit_cents: int) -> float:
    x = (position % 97 + unit_cents % 89) / 186
    acc = 0.0
    for k in range(1, DISCOUNT_TERMS):
        acc += math.sin(x * k) / k
    return min(0.3, abs(acc) / 8)


def compute_tax(amount: Decimal, tax_class: int) -> Decimal:
    tax = Decimal(0)
    for rate in TAX_RATES[tax_class]:
        tax += (amount * rate).quantize(CENT, ROUND_HALF_EVEN)
    audit = hashlib.sha256(f"{amount}:{tax}".encode()).digest()
    for _ in range(160):
        audit = hashlib.sha256(audit).digest()
    return tax


def apply_discounts(lines: list[tuple[str, int, int, int]]) -> tuple[Decimal, Decimal]:
    """Discount every line (loyalty curve, volume bonus) and tax what is left."""
    debug = checkout_log.isEnabledFor(logging.DEBUG)
    discount_total, tax_total = Decimal(0), Decimal(0)
    for position, (sku, unit_cents, quantity, tax_class) in enumerate(lines):
        gross = Decimal(unit_cents * quantity) / 100
        rate = loyalty_rate(position, unit_cents) + (0.05 if quantity >= 3 else 0.0)
        discount = (gross * Decimal(f"{rate:.4f}")).quantize(CENT, ROUND_HALF_EVEN)
        tax = compute_tax(gross - discount, tax_class)
        if debug:
            checkout_log.debug(
                "discount computed",
                sku=sku,
                quantity=quantity,
                gross=str(gross),
                rate=round(rate, 4),
                discount=str(discount),
                tax=str(tax),
            )
        discount_total += discount
        tax_total += tax
    return discount_total, tax_total


def price_cart(items: int) -> dict[str, Any]:
    lines = [lookup_product(i) for i in range(items)]
    subtotal = Decimal(sum(unit * quantity for _, unit, quantity, _ in lines)) / 100
    discount, tax = apply_discounts(lines)
    total = subtotal - discount + tax
    return {
        "items": items,
        "units": sum(quantity for _, _, quantity, _ in lines),
        "currency": "EUR",
        "subtotal": str(subtotal.quantize(CENT)),
        "discount": str(discount),
        "tax": str(tax),
        "total": str(total.quantize(CENT)),
    }


# --- Background load -------------------------------------------------------------------------

WORK_S, SLEEP_S = 0.02, 0.1


def score_products(batch: int, size: int = 16) -> dict[int, float]:
    scores = {}
    for product in range(batch * size, (batch + 1) * size):
        digest = hashlib.blake2b(product.to_bytes(8, "big"), digest_size=16).digest()
        for _ in range(8):
            digest = hashlib.blake2b(digest, digest_size=16).digest()
        features = [b / 255 for b in digest]
        weights = (0.9, -0.3, 0.4, 0.25, -0.1, 0.7, 0.05, -0.6)
        scores[product] = sum(w * f * f for w, f in zip(weights, features, strict=False))
    return scores


def recompute_recommendations(budget_s: float = WORK_S) -> list[int]:
    """Score products for ``budget_s`` seconds of CPU; the top five are recommended."""
    deadline = time.perf_counter() + budget_s
    scores: dict[int, float] = {}
    batch = 0
    while time.perf_counter() < deadline:
        scores.update(score_products(batch))
        batch += 1
    top = heapq.nlargest(5, scores, key=scores.__getitem__)
    reco_log.debug("recommendations recomputed", scored=len(scores), top=top)
    return top


def _recommendations_loop() -> None:
    while True:
        try:
            recompute_recommendations()
        except Exception:
            reco_log.exception("recommendations failed")
        time.sleep(SLEEP_S)


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, data: object, content_type: str = "application/json") -> Response:
    return Response(status, json.dumps(data).encode() + b"\n", content_type)


def error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def parse_traceparent(value: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid W3C ``traceparent``, else None."""
    if not value:
        return None
    match = TRACEPARENT_RE.fullmatch(value.strip())
    if not match:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id, parent_id, flags


class DemoShop:
    """The WSGI application."""

    def __init__(self) -> None:
        configure_logging()
        self.started = time.time()
        self.state_dir = state_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.admin_token, token_source = load_admin_token(self.state_dir)
        self.store = LevelStore(self.state_dir)
        self.store.sync()
        self.background_load = os.environ.get("DEMO_BACKGROUND_LOAD", "1").strip() != "0"
        self._threads_pid: int | None = None
        self._threads: dict[str, threading.Thread] = {}
        self._threads_lock = threading.Lock()
        self.routes: dict[str, dict[str, Callable[[dict[str, Any]], Response]]] = {
            "/": {"GET": self.index},
            "/health": {"GET": self.health},
            "/checkout": {"GET": self.checkout},
            "/admin/log-level": {"GET": self.get_log_level, "POST": self.set_log_level},
        }
        host, in_worker = _gunicorn_host()
        if host is not None:
            _admit_admin_token_header(host)
        if in_worker:  # forked already, so threads are safe now (else: on first request)
            self.ensure_threads()
        app_log.info(
            "demo shop ready",
            state_dir=str(self.state_dir),
            admin_token_from=token_source,
            background_load=self.background_load,
        )

    def ensure_threads(self) -> None:
        """Start this process's background threads once (again after a fork)."""
        pid = os.getpid()
        if self._threads_pid == pid:
            return
        with self._threads_lock:
            if self._threads_pid == pid:
                return
            self._threads = {"log-levels": self.store.start_watcher(0.25)}
            if self.background_load:
                thread = threading.Thread(
                    target=_recommendations_loop, name="demo-shop-recommendations", daemon=True
                )
                thread.start()
                self._threads["background-load"] = thread
            self._threads_pid = pid

    # --- WSGI ------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., object]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        self.ensure_threads()
        incoming = parse_traceparent(environ.get("HTTP_TRACEPARENT"))
        trace_id = incoming[0] if incoming else secrets.token_hex(16)
        span_id = secrets.token_hex(8)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(trace_id=trace_id, span_id=span_id)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO") or "/"
        try:
            try:
                self.store.sync()
            except Exception:
                app_log.exception("log-level sync failed")
            response = self.dispatch(method, path, environ)
        except Exception:
            http_log.exception("unhandled error")
            response = error(500, "internal error")
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        log_fields: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": response.status,
            "duration_ms": duration_ms,
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        if incoming:
            log_fields["parent_span_id"] = incoming[1]
        if response.status >= 500:
            http_log.error("request", **log_fields)
        else:
            http_log.info("request", **log_fields)
        structlog.contextvars.clear_contextvars()
        flags = incoming[2] if incoming else "01"
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("traceparent", f"00-{trace_id}-{span_id}-{flags}"),
            ("X-Demo-Pid", str(os.getpid())),
            *response.headers,
        ]
        status = f"{response.status} {HTTPStatus(response.status).phrase}"
        start_response(status, headers)
        return [] if method == "HEAD" else [response.body]

    def dispatch(self, method: str, path: str, environ: dict[str, Any]) -> Response:
        handlers = self.routes.get(path)
        if handlers is None:
            return error(404, f"no such path: {path}")
        handler = handlers.get("GET" if method == "HEAD" else method)
        if handler is None:
            allowed = sorted({*handlers, *(["HEAD"] if "GET" in handlers else [])})
            response = error(405, f"method {method} not allowed; use {', '.join(allowed)}")
            response.headers.append(("Allow", ", ".join(allowed)))
            return response
        return handler(environ)

    # --- Endpoints -------------------------------------------------------------------------

    def index(self, environ: dict[str, Any]) -> Response:
        return json_response(
            200,
            {
                "service": SERVICE_ID,
                "description": "Prodbug's demo shop: something real to debug.",
                "endpoints": [
                    {"method": "GET", "path": "/health", "doc": "health (application/health+json)"},
                    {"method": "GET", "path": "/checkout?items=N", "doc": "price a cart (CPU)"},
                    {
                        "method": "GET",
                        "path": "/admin/log-level?module=NAME",
                        "doc": "effective level of a logger (admin_token header)",
                    },
                    {
                        "method": "POST",
                        "path": "/admin/log-level",
                        "doc": 'set a level in every worker: {"module": ..., "level": ...}',
                    },
                ],
            },
        )

    def health(self, environ: dict[str, Any]) -> Response:
        now = time.time()
        when = datetime.fromtimestamp(now, UTC).isoformat()
        checks: dict[str, list[dict[str, Any]]] = {
            "uptime": [
                {
                    "componentType": "system",
                    "observedValue": round(now - self.started, 3),
                    "observedUnit": "s",
                    "status": "pass",
                    "time": when,
                }
            ],
            "process:pid": [
                {"componentType": "system", "observedValue": os.getpid(), "status": "pass"}
            ],
        }
        watcher = self._threads.get("log-levels")
        checks["log-levels:overrides"] = [
            {
                "componentType": "component",
                "observedValue": len(self.store.overrides()),
                "observedUnit": "loggers",
                "status": "pass" if watcher and watcher.is_alive() else "warn",
                "time": when,
            }
        ]
        load = self._threads.get("background-load")
        checks["background-load:thread"] = [
            {
                "componentType": "component",
                "observedValue": "disabled"
                if not self.background_load
                else ("running" if load and load.is_alive() else "stopped"),
                "status": "pass"
                if not self.background_load or (load and load.is_alive())
                else "warn",
                "time": when,
            }
        ]
        status = "pass"
        if any(c["status"] != "pass" for entries in checks.values() for c in entries):
            status = "warn"
        return json_response(
            200,
            {"status": status, "serviceId": SERVICE_ID, "checks": checks},
            content_type="application/health+json",
        )

    def checkout(self, environ: dict[str, Any]) -> Response:
        raw = _query_value(environ, "items")
        if raw is None:
            items = DEFAULT_ITEMS
        elif ITEMS_RE.fullmatch(raw) and 1 <= int(raw) <= MAX_ITEMS:
            items = int(raw)
        else:
            return error(400, f"items must be an integer from 1 to {MAX_ITEMS}")
        receipt = price_cart(items)
        checkout_log.info("checkout priced", items=items, total=receipt["total"])
        return json_response(200, receipt)

    def _authorised(self, environ: dict[str, Any]) -> bool:
        given = environ.get("HTTP_ADMIN_TOKEN")
        if given is None:
            return False
        return hmac.compare_digest(
            given.strip().encode("latin-1", "replace"), self.admin_token.encode()
        )

    def get_log_level(self, environ: dict[str, Any]) -> Response:
        if not self._authorised(environ):
            return error(403, "missing or wrong admin_token header")
        module = _query_value(environ, "module")
        if module is None or not MODULE_RE.fullmatch(module):
            return error(400, "module must be a logger name like demo_shop.checkout")
        return json_response(
            200, {"module": module, "level": effective_level_name(logging.getLogger(module))}
        )

    def set_log_level(self, environ: dict[str, Any]) -> Response:
        if not self._authorised(environ):
            return error(403, "missing or wrong admin_token header")
        body = _read_body(environ)
        if body is None:
            return error(413, f"request body larger than {MAX_BODY} bytes")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return error(400, 'body must be JSON: {"module": "...", "level": "DEBUG"}')
        if not isinstance(data, dict):
            return error(400, 'body must be a JSON object: {"module": "...", "level": "DEBUG"}')
        module = data.get("module")
        if not isinstance(module, str) or not MODULE_RE.fullmatch(module):
            return error(400, "module must be a logger name like demo_shop.checkout")
        if "level" not in data:
            return error(400, "level is required (null resets the logger to inherit)")
        raw_level = data["level"]
        level: str | None
        if raw_level is None:
            level = None
        elif isinstance(raw_level, str) and raw_level.strip().upper() in (*LEVELS, "NOTSET"):
            level = raw_level.strip().upper()
            level = None if level == "NOTSET" else level
        else:
            return error(400, f"level must be one of {', '.join(LEVELS)}, or null to reset")
        try:
            previous, effective = self.store.set_level(module, level)
        except OverflowError as exc:
            return error(400, str(exc))
        admin_log.info(
            "log level changed",
            module=module,
            new_level=level or "NOTSET",
            previous=previous,
            effective=effective,
        )
        return json_response(
            200,
            {
                "module": module,
                "level": level or "NOTSET",
                "previous": previous,
                "effective": effective,
            },
        )


def _query_value(environ: dict[str, Any], name: str) -> str | None:
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get(name)
    return values[0] if values else None


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        length = -1
    if length > MAX_BODY:
        return None
    if length < 0:
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return b""
        data = stream.read(MAX_BODY + 1)
        return None if len(data) > MAX_BODY else data
    return stream.read(length) if length else b""


app = DemoShop()
