"""Request ids, W3C trace context in logs, and the login wall."""

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired
from django.http import HttpRequest, HttpResponse

log = structlog.get_logger("prodbug.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


class RequestContextMiddleware:
    """Binds request_id (echoed back) and trace_id to every log line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        context: dict[str, Any] = {"request_id": request_id}
        match = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
        if match and match.group(1) != "0" * 32:
            context["trace_id"] = match.group(1)
            context["parent_span_id"] = match.group(2)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**context)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        structlog.contextvars.clear_contextvars()
        return response


# Paths that authenticate themselves (API tokens) or must be reachable logged out.
_OPEN_PREFIXES = ("/api/", "/ofrep/", "/healthz", "/static/", "/accounts/login/")


class LoginRequiredMiddleware(_DjangoLoginRequired):
    """Django's login wall, minus token-authenticated API routes and health probes."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: list[Any],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.path.startswith(_OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
