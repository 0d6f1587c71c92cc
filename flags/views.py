from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_act, can_configure
from flags import actions, queries
from flags.forms import (
    EvaluateForm,
    ExtendForm,
    FlagForm,
    LogLevelForm,
    OverrideForm,
    RuleForm,
    parse_values,
)
from flags.models import Flag, FlagOverride, LogLevelOverride, Operator
from services.models import Service
from sessions.actions import ActionError
from sessions.forms import errors_text
from sessions.models import DebugSession

PANEL = "flags/panel.html#interventions"


def panel_context(session: DebugSession, request: HttpRequest | None = None) -> dict[str, Any]:
    return {
        "session": session,
        "log_overrides": SimpleLazyObject(
            lambda: list(session.log_overrides.select_related("service", "created_by"))
        ),
        "log_services": SimpleLazyObject(lambda: list(session.services.all())),  # prefetched
        # Validated per service protocol when submitted.
        "log_levels": ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "TRACE", "WARN", "OFF"],
        "flag_overrides": SimpleLazyObject(lambda: list(queries.session_overrides(session))),
        "flags_all": SimpleLazyObject(lambda: list(Flag.objects.all())),
        "operators": Operator.choices,
        "now": timezone.now(),
    }


def _panel(
    request: HttpRequest, session: DebugSession, *, status: int = 200, **extra: Any
) -> HttpResponse:
    if not request.htmx:
        if extra.get("override_error"):
            messages.error(request, extra["override_error"])
        return redirect("sessions:detail", session_id=session.pk)
    return render(request, PANEL, {**panel_context(session), **extra}, status=status)


@require_POST
def override_new(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(DebugSession, pk=session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change flags.")
    form = OverrideForm(request.POST)
    if not form.is_valid():
        error = errors_text(form)
        return _panel(request, session, status=400, override_error=error, override_form=form)
    data = form.cleaned_data
    try:
        actions.override_create(
            session=session,
            flag=data["flag"],
            variant=data["variant"],
            attribute=data["attribute"],
            operator=data["operator"],
            values=parse_values(data["values"]),
            duration_s=data["duration_min"] * 60,
            reason=data["reason"],
            actor=request.user,
        )
    except ActionError as exc:
        error = f"{exc.field}: {exc.message}"
        return _panel(request, session, status=400, override_error=error, override_form=form)
    return _panel(request, session)


def _override_action(request: HttpRequest, override_id: int, verb: str) -> HttpResponse:
    override = get_object_or_404(FlagOverride.objects.select_related("session"), pk=override_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change flags.")
    try:
        if verb == "revert":
            actions.override_revert(override=override, actor=request.user)
        else:
            form = ExtendForm(request.POST)
            if not form.is_valid():
                raise ActionError("Give 1–1440 minutes.", field="minutes")
            minutes = form.cleaned_data["minutes"]
            actions.override_extend(override=override, duration_s=minutes * 60, actor=request.user)
    except ActionError as exc:
        return _panel(request, override.session, status=400, override_error=exc.message)
    return _panel(request, override.session)


@require_POST
def override_revert(request: HttpRequest, override_id: int) -> HttpResponse:
    return _override_action(request, override_id, "revert")


@require_POST
def override_extend(request: HttpRequest, override_id: int) -> HttpResponse:
    return _override_action(request, override_id, "extend")


@require_POST
def loglevel_new(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(DebugSession, pk=session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change log levels.")
    form = LogLevelForm(request.POST)
    try:
        if not form.is_valid():
            raise ActionError(errors_text(form), field="form")
        data = form.cleaned_data
        service = Service.objects.filter(slug=data["service"], sessions=session).first()
        if service is None:
            raise ActionError("Choose one of the session's services.", field="service")
        actions.loglevel_create(
            session=session,
            service=service,
            logger=data["logger"],
            level=data["level"],
            duration_s=data["duration_min"] * 60,
            reason=data["reason"],
            actor=request.user,
        )
    except ActionError as exc:
        return _panel(request, session, status=400, log_error=exc.message, log_form=form)
    return _panel(request, session)


@require_POST
def loglevel_change(request: HttpRequest, override_id: int, verb: str) -> HttpResponse:
    override = get_object_or_404(
        LogLevelOverride.objects.select_related("session", "service"), pk=override_id
    )
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change log levels.")
    try:
        if verb == "revert":
            actions.loglevel_revert_request(override=override, actor=request.user)
        elif verb == "handled":
            actions.loglevel_mark_handled(override=override, actor=request.user)
        else:
            form = ExtendForm(request.POST)
            if not form.is_valid():
                raise ActionError("Give 1–240 minutes.", field="minutes")
            actions.loglevel_extend(
                override=override, duration_s=form.cleaned_data["minutes"] * 60, actor=request.user
            )
    except ActionError as exc:
        return _panel(request, override.session, status=400, log_error=exc.message)
    if not request.htmx and verb == "handled":
        return redirect(request.POST.get("next") or "sessions:list")
    return _panel(request, override.session)


@require_POST
def session_evaluate(request: HttpRequest, session_id: int) -> HttpResponse:
    """The Evaluate box: what each flag answers for a context, and why. Read-only."""
    session = get_object_or_404(DebugSession, pk=session_id)
    form = EvaluateForm(request.POST)
    ctx: dict[str, Any] = {"session": session, "evaluate_form": form}
    status = 200
    if form.is_valid():
        ctx["evaluations"] = queries.evaluate_all(form.cleaned_data["context"])
    else:
        status = 400
    return render(request, "flags/panel.html#evaluate", ctx, status=status)


@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    flags = Flag.objects.prefetch_related("rules")
    return render(request, "flags/list.html", {"flags": flags})


@require_http_methods(["GET", "POST"])
def flag_new(request: HttpRequest) -> HttpResponse:
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins define flags.")
    form = FlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            flag = actions.flag_create(
                key=data["key"],
                flag_type=data["type"],
                variants=data["variants"],
                default_variant=data["default_variant"],
                description=data["description"],
            )
            return redirect("flags:detail", key=flag.key)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "flags/new.html", {"form": form}, status=400 if form.is_bound else 200)


@require_GET
def flag_detail(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_object_or_404(Flag, key=key)
    return render(request, "flags/detail.html", _detail_context(flag, RuleForm()))


def _detail_context(flag: Flag, rule_form: RuleForm) -> dict[str, Any]:
    overrides = flag.overrides.filter(reverted_at__isnull=True, expires_at__gt=timezone.now())
    return {
        "flag": flag,
        "rules": flag.rules.all(),
        "overrides": overrides.select_related("session", "created_by"),
        "rule_form": rule_form,
    }


@require_POST
def rule_add(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_object_or_404(Flag, key=key)
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins change flag rules.")
    form = RuleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.flag_rule_add(
                flag=flag,
                attribute=data["attribute"],
                operator=data["operator"],
                values=parse_values(data["values"]),
                variant=data["variant"],
            )
            return redirect("flags:detail", key=flag.key)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "flags/detail.html", _detail_context(flag, form), status=400)


@require_POST
def flag_toggle(request: HttpRequest, key: str) -> HttpResponse:
    flag = get_object_or_404(Flag, key=key)
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins enable or disable flags.")
    actions.flag_set_enabled(flag=flag, enabled=not flag.enabled)
    return redirect("flags:detail", key=flag.key)
