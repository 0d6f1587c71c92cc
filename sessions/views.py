from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.roles import can_act
from services import queries as service_queries
from services.models import Service
from sessions import actions, panels, queries, reports
from sessions.forms import (
    FindingsForm,
    FollowUpForm,
    ItemForm,
    NoteForm,
    SessionForm,
    StatusForm,
    TraceForm,
    errors_text,
)
from sessions.models import ChecklistItem, DebugSession, FollowUp, Status, TraceRef


def _session_context(session: DebugSession, *, all_events: bool = False) -> dict[str, object]:
    # Lazy: the page renders checklist and timeline from its fragment cache when the
    # version is unchanged, and then these queries never run.
    limit = None if all_events else queries.TIMELINE_PAGE
    return {
        "session": session,
        "phases": SimpleLazyObject(lambda: queries.checklist_phases(session)),
        "events": SimpleLazyObject(lambda: queries.timeline(session, limit=limit)),
        "users": SimpleLazyObject(queries.assignable_users),
        "version": queries.session_version(session.pk),
        "statuses": Status,
        "note_form": NoteForm(),
        **_health_context(session),
        **_evidence_context(session),
    }


def _health_context(session: DebugSession) -> dict[str, object]:
    run = session.health_runs.select_related("requested_by").order_by("-id").first()
    return {
        "session": session,
        "session_services": list(session.services.all()),
        "all_services": SimpleLazyObject(lambda: list(Service.objects.all())),
        "health_run": run,
        "health_rows": SimpleLazyObject(
            lambda: service_queries.run_rows(run) if run and run.is_finished else []
        ),
    }


def _evidence_context(session: DebugSession) -> dict[str, object]:
    return {
        "session": session,
        "traces": SimpleLazyObject(lambda: queries.trace_rows(session)),
        "follow_ups": SimpleLazyObject(
            lambda: list(session.follow_ups.select_related("owner").order_by("due", "id"))
        ),
    }


def _get_session(session_id: int) -> DebugSession:
    # The affected services are read by several panels: fetched once, here.
    return get_object_or_404(
        DebugSession.objects.select_related("commander").prefetch_related("services"),
        pk=session_id,
    )


@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    ctx = {"sessions": queries.sessions_for_list(status), "status": status, "statuses": Status}
    template = "sessions/list.html#rows" if request.htmx else "sessions/list.html"
    return render(request, template, ctx)


@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    if not can_act(request.user):
        return HttpResponseForbidden("Only responders can start a session.")
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = actions.session_open(
            title=form.cleaned_data["title"],
            severity=form.cleaned_data["severity"],
            summary=form.cleaned_data["summary"],
            commander=form.cleaned_data["commander"],
            template=form.cleaned_data["template"],
            services=list(form.cleaned_data["services"]),
            actor=request.user,
        )
        return redirect("sessions:detail", session_id=session.pk)
    status = 400 if form.is_bound else 200
    return render(request, "sessions/new.html", {"form": form}, status=status)


@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    ctx = _session_context(session, all_events=request.GET.get("events") == "all")
    ctx.update(panels.context_for(session, request))
    return render(request, "sessions/detail.html", ctx)


@require_GET
def session_live(request: HttpRequest, session_id: int) -> HttpResponse:
    """The poll: nothing rendered unless the session changed since the client's version."""
    version = queries.session_version(session_id)
    if version is None:
        return HttpResponse(status=404)
    etag = f'"session-{session_id}-{version}"'
    if request.GET.get("v") == str(version):
        response = HttpResponse(status=204)
    elif etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        session = _get_session(session_id)
        ctx = _session_context(session, all_events=request.GET.get("events") == "all")
        ctx.update(panels.context_for(session, request))
        response = render(request, "sessions/live.html", ctx)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _item_response(
    request: HttpRequest, item: ChecklistItem, *, error: str = "", status: int = 200
) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("sessions:detail", session_id=item.session_id)
    (phase,) = queries.checklist_phases(item.session, phase=item.phase)
    ctx = {"item": item, "session": item.session, "phase": phase, "error": error}
    return render(request, "sessions/item_response.html", ctx, status=status)


@require_GET
def item_menu(request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
    """The item's menu, loaded when opened: 200 items x 3 forms would weigh down the page."""
    item = get_object_or_404(
        ChecklistItem.objects.select_related("assignee"), pk=item_id, session_id=session_id
    )
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change the checklist.")
    return render(request, "sessions/detail.html#itemmenu", {"item": item})


@require_POST
def item_update(request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
    item = get_object_or_404(
        ChecklistItem.objects.select_related("session", "assignee"),
        pk=item_id,
        session_id=session_id,
    )
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change the checklist.")
    form = ItemForm(request.POST)
    if not form.is_valid():
        error = errors_text(form)
        return _item_response(request, item, error=error, status=400)
    data = form.cleaned_data
    change = actions.ItemChange(
        state=data["state"] or None if "state" in request.POST else None,
        assignee=data["assignee"] if "assignee" in request.POST else actions.UNSET,
        note=data["note"] if "note" in request.POST else None,
    )
    try:
        item = actions.item_update(
            item=item, actor=request.user, change=change, expected_version=data["version"]
        )
    except actions.ItemConflict as conflict:
        return _item_response(request, conflict.item, error=conflict.message, status=409)
    except actions.ActionError as exc:
        return _item_response(request, item, error=exc.message, status=400)
    return _item_response(request, item)


@require_POST
def session_status(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change the status.")
    form = StatusForm(request.POST)
    try:
        if not form.is_valid():
            raise actions.ActionError("Choose a status.", field="status")
        if form.cleaned_data["status"] == Status.RESOLVED:
            return session_resolve(request, session.pk)
        session = actions.session_set_status(
            session=session, status=form.cleaned_data["status"], actor=request.user
        )
    except actions.ActionError as exc:
        if request.htmx:
            ctx = {"session": session, "error": exc.message}
            return render(request, "sessions/detail.html#header", ctx, status=400)
        messages.error(request, exc.message)
        return redirect("sessions:detail", session_id=session.pk)
    if request.htmx:
        return render(request, "sessions/detail.html#header", {"session": session})
    return redirect("sessions:detail", session_id=session.pk)


@require_POST
def session_note(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot add notes.")
    form = NoteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            actions.session_add_note(
                session=session, actor=request.user, text=form.cleaned_data["text"]
            )
            form = NoteForm()
        except actions.ActionError as exc:
            error = exc.message
    else:
        error = "Write something first."
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("sessions:detail", session_id=session.pk)
    ctx = {
        "session": session,
        "note_form": form,
        "note_error": error,
        "events": queries.timeline(session),
    }
    return render(request, "sessions/note_response.html", ctx, status=400 if error else 200)


@require_GET
def session_health(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    return render(request, "sessions/detail.html#health", _health_context(session))


@require_POST
def session_health_run(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot run health checks.")
    error, status = "", 202
    try:
        actions.session_health_run_start(session=session, actor=request.user)
    except actions.ActionError as exc:
        error, status = exc.message, 400
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("sessions:detail", session_id=session.pk)
    ctx = {**_health_context(session), "health_error": error}
    return render(request, "sessions/detail.html#health", ctx, status=200 if not error else status)


@require_POST
def session_services(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change the affected services.")
    slugs = request.POST.getlist("services")
    chosen = list(Service.objects.filter(slug__in=slugs))
    error = ""
    if len(chosen) != len(set(slugs)):
        unknown = sorted(set(slugs) - {s.slug for s in chosen})
        error = f"Unknown service: {', '.join(unknown)}"
    else:
        actions.session_set_services(session=session, services=chosen, actor=request.user)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("sessions:detail", session_id=session.pk)
    ctx = {**_health_context(session), "health_error": error}
    return render(request, "sessions/detail.html#health", ctx, status=400 if error else 200)


def _evidence_response(
    request: HttpRequest, session: DebugSession, *, error: str = "", status: int = 200
) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("sessions:detail", session_id=session.pk)
    session.refresh_from_db()
    ctx = {**_evidence_context(session), "evidence_error": error}
    return render(request, "sessions/detail.html#evidence", ctx, status=status)


@require_POST
def trace_add(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot record traces.")
    form = TraceForm(request.POST)
    if not form.is_valid():
        error = errors_text(form)
        return _evidence_response(request, session, error=error, status=400)
    value = form.cleaned_data["trace"].strip()
    kind = "traceparent" if "-" in value else "trace_id"
    try:
        actions.trace_add(
            session=session,
            actor=request.user,
            service=form.cleaned_data["service"],
            note=form.cleaned_data["note"],
            **{kind: value},
        )
    except actions.ActionError as exc:
        return _evidence_response(request, session, error=exc.message, status=400)
    return _evidence_response(request, session)


@require_GET
def trace_open(request: HttpRequest, session_id: int, trace_id: int, index: int) -> HttpResponse:
    """Follow a trace link; remembers that logs and traces were correlated."""
    ref = get_object_or_404(TraceRef.objects.select_related("service"), pk=trace_id,
                            session_id=session_id)  # fmt: skip
    found = queries.trace_links(ref)
    if not 0 <= index < len(found):
        return HttpResponse("No such link.", status=404)
    actions.trace_opened(ref=ref)
    return HttpResponseRedirect(found[index].url)


@require_POST
def findings_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot edit findings.")
    form = FindingsForm(request.POST)
    if not form.is_valid():
        return _evidence_response(request, session, error="Findings are too long.", status=400)
    actions.findings_set(session=session, actor=request.user, text=form.cleaned_data["findings"])
    return _evidence_response(request, session)


@require_POST
def followup_add(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot file follow-ups.")
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        error = errors_text(form)
        return _evidence_response(request, session, error=error, status=400)
    try:
        actions.followup_add(session=session, actor=request.user, **form.cleaned_data)
    except actions.ActionError as exc:
        return _evidence_response(request, session, error=exc.message, status=400)
    return _evidence_response(request, session)


@require_POST
def followup_state(request: HttpRequest, session_id: int, follow_up_id: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp, pk=follow_up_id, session_id=session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot change follow-ups.")
    try:
        actions.followup_set_state(
            follow_up=follow_up, actor=request.user, state=request.POST.get("state", "")
        )
    except actions.ActionError as exc:
        return _evidence_response(request, follow_up.session, error=exc.message, status=400)
    return _evidence_response(request, follow_up.session)


@require_POST
def session_resolve(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot resolve sessions.")
    try:
        result = actions.session_resolve(session=session, actor=request.user)
    except actions.ActionError as exc:
        messages.error(request, exc.message)
    else:
        if result.remaining:
            messages.error(
                request, "Resolved, but not everything could be switched off: "
                + "; ".join(result.remaining),
            )  # fmt: skip
        else:
            messages.success(
                request,
                f"Resolved. Switched off and verified: {len(result.ended)} intervention(s).",
            )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("sessions:detail", args=[session.pk]))
    return redirect("sessions:detail", session_id=session.pk)


REPORTS = {
    "md": ("text/markdown; charset=utf-8", reports.report_markdown),
    "html": ("text/html; charset=utf-8", reports.report_html),
    "zip": ("application/zip", reports.report_zip),
}


@require_GET
def session_report(request: HttpRequest, session_id: int, fmt: str) -> HttpResponse:
    session = _get_session(session_id)
    content_type, build = REPORTS[fmt]
    response = HttpResponse(build(session), content_type=content_type)
    name = reports.report_filename(session, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if fmt == "html":
        # Opened from here rather than from disk, the report must not run anything.
        response["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
    return response
