"""OpenFeature Remote Evaluation Protocol (OFREP) 0.3.0 endpoints.

Plain views rather than the ninja API: OFREP prescribes its own error bodies, 401/403
without a body, and ETag handling on bulk evaluation.
"""

import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import ApiToken
from flags import evaluation


def _token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key", "").strip()


def _authenticate(request: HttpRequest) -> HttpResponse | None:
    raw = _token(request)
    if not raw:
        return HttpResponse(status=401)
    if ApiToken.authenticate(raw, scope=ApiToken.Scope.OFREP) is None:
        return HttpResponse(status=403)
    return None


def _error(status: int, key: str | None, code: str, details: str) -> JsonResponse:
    body: dict[str, Any] = {"errorCode": code, "errorDetails": details}
    if key is not None:
        body = {"key": key, **body}
    return JsonResponse(body, status=status)


def _context(request: HttpRequest) -> dict[str, Any]:
    """The request's evaluation context; raises ContextError for a bad body."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise evaluation.ContextError("PARSE_ERROR", f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise evaluation.ContextError("PARSE_ERROR", "body must be a JSON object")
    return evaluation.check_context(body.get("context"))


@csrf_exempt
@require_POST
def evaluate_flag(request: HttpRequest, key: str) -> HttpResponse:
    if denied := _authenticate(request):
        return denied
    try:
        context = _context(request)
        flag = evaluation.snapshot().get(key)
        if flag is None:
            return _error(404, key, "FLAG_NOT_FOUND", f"flag {key!r} does not exist")
        return JsonResponse(evaluation.evaluate(flag, context).ofrep())
    except evaluation.ContextError as exc:
        return _error(400, key, exc.code, exc.details)


@csrf_exempt
@require_POST
def evaluate_flags(request: HttpRequest) -> HttpResponse:
    if denied := _authenticate(request):
        return denied
    try:
        context = _context(request)
    except evaluation.ContextError as exc:
        return _error(400, None, exc.code, exc.details)
    results = []
    for flag in evaluation.snapshot().values():
        try:
            results.append(evaluation.evaluate(flag, context).ofrep())
        except evaluation.ContextError as exc:
            results.append({"key": flag.key, "errorCode": exc.code, "errorDetails": exc.details})
    body = json.dumps({"flags": results}, separators=(",", ":"), sort_keys=True).encode()
    # The ETag is the content itself: it changes when a flag changes *and* when an override
    # expires, which no version counter would notice.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    return response
