"""The JSON API at /api/v1: typed with django-ninja, token or browser-session auth."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from accounts.models import ApiToken


class BearerToken(HttpBearer):
    scope = ApiToken.Scope.API

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = ApiToken.authenticate(token, scope=self.scope)
        if api_token is None:
            return None
        request.user = api_token.user
        return api_token.user


class HeaderToken(APIKeyHeader):
    param_name = "X-API-Key"
    scope = ApiToken.Scope.API

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        api_token = ApiToken.authenticate(key or "", scope=self.scope)
        if api_token is None:
            return None
        request.user = api_token.user
        return api_token.user


api = NinjaAPI(
    title="Prodbug API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    auth=[BearerToken(), HeaderToken(), django_auth],
)


def _field_of(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", []) if p not in ("body", "payload", "query", "path")]
    return ".".join(loc) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field_of(e), "message": e.get("msg", "invalid")} for e in exc.errors]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return api.create_response(request, {"detail": message, "errors": errors}, status=400)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "Authentication required: send Authorization: Bearer <token>."},
        status=401,
    )


def register_routers() -> None:
    from flags.api import router as flags_router
    from profiling.api import router as profiling_router
    from services.api import router as services_router
    from sessions.api import router as sessions_router

    api.add_router("/sessions", sessions_router)
    api.add_router("", services_router)
    api.add_router("", flags_router)
    api.add_router("", profiling_router)


register_routers()

__all__ = ["HttpError", "api"]
