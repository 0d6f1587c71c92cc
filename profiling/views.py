from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.csp import CSP
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.roles import can_act
from profiling import actions, queries
from profiling.forms import DiffForm, StartForm
from profiling.models import ARTIFACT_FORMATS, ProfileArtifact, ProfileRun
from sessions.actions import ActionError
from sessions.models import DebugSession

PANEL = "profiling/panel.html#profiles"
ROW = "profiling/panel.html#run"


def panel_context(session: DebugSession, request: HttpRequest | None = None) -> dict[str, Any]:
    services = SimpleLazyObject(lambda: queries.profile_services(session))
    runs = SimpleLazyObject(lambda: queries.session_runs(session))
    return {
        "session": session,
        "profile_runs": runs,
        # Newest first: the form preselects the two latest, older as "before".
        "profile_comparable": SimpleLazyObject(
            lambda: [r for r in runs if r.state == ProfileRun.State.SUCCEEDED and r.samples]
        ),
        "profile_services": services,
    }


def _panel(
    request: HttpRequest, session: DebugSession, *, status: int = 200, **extra: Any
) -> HttpResponse:
    if not request.htmx:
        if extra.get("profile_error"):
            messages.error(request, extra["profile_error"])
        return redirect("sessions:detail", session_id=session.pk)
    return render(request, PANEL, {**panel_context(session), **extra}, status=status)


@require_POST
def profile_start(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(DebugSession, pk=session_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot start profiles.")
    form = StartForm(request.POST, services=queries.profile_services(session))
    if not form.is_valid():
        return _panel(request, session, status=400, profile_error=form.error_text())
    try:
        actions.profile_start(session=session, actor=request.user, **form.cleaned_data)
    except actions.ProfileRefused as exc:
        return _panel(request, session, status=409, profile_error=exc.message)
    except ActionError as exc:
        return _panel(request, session, status=400, profile_error=f"{exc.field}: {exc.message}")
    return _panel(request, session)


@require_POST
def profile_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ProfileRun.objects.select_related("session"), pk=run_id)
    if not can_act(request.user):
        return HttpResponseForbidden("Viewers cannot cancel profiles.")
    error, status = "", 200
    try:
        run = actions.profile_cancel(run=run, actor=request.user)
    except ActionError as exc:
        error, status = exc.message, 409
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("profiling:detail", run_id=run.pk)
    return render(request, ROW, {"run": run, "run_error": error}, status=status)


@require_GET
def profile_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The poll of an active run: its row in the panel, or the status box of its page, which
    reloads itself once the run is over so the flamegraph appears."""
    run = get_object_or_404(queries.run_detail(run_id).prefetch_related("artifacts"))
    if request.GET.get("in") == "page":
        if run.is_active:
            return render(request, "profiling/detail.html#status", {"run": run})
        response = HttpResponseStopPolling()
        response["HX-Refresh"] = "true"
        return response
    response = render(request, ROW, {"run": run})
    if not run.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def profile_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(queries.run_detail(run_id).prefetch_related("artifacts"))
    ctx = {
        "run": run,
        "flame": queries.flame_view(run),
        "artifacts": {a.kind: a for a in run.artifacts.all()},
        "others": [r for r in queries.session_runs(run.session) if r.samples and r.pk != run.pk],
    }
    return render(request, "profiling/detail.html", ctx)


@require_GET
def profile_diff(request: HttpRequest) -> HttpResponse:
    form = DiffForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Give two runs: ?a=<before>&b=<after>.", status=400)
    runs = {
        r.pk: r
        for r in ProfileRun.objects.filter(
            pk__in=[form.cleaned_data["a"], form.cleaned_data["b"]]
        ).prefetch_related("artifacts")
    }
    before, after = runs.get(form.cleaned_data["a"]), runs.get(form.cleaned_data["b"])
    if before is None or after is None:
        return HttpResponse("No such run.", status=404)
    succeeded = ProfileRun.State.SUCCEEDED
    flame = queries.diff_view(before, after)
    if flame is None or before.state != succeeded or after.state != succeeded:
        return HttpResponse("Compare two succeeded runs that have samples.", status=400)
    ctx = {"before": before, "after": after, "flame": flame}
    return render(request, "profiling/diff.html", ctx)


@require_GET
def profile_download(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    if kind not in ARTIFACT_FORMATS:
        return HttpResponse("Unknown kind: use svg, speedscope or collapsed.", status=404)
    artifact = get_object_or_404(
        ProfileArtifact.objects.select_related("run__service"), run_id=run_id, kind=kind
    )
    response = FileResponse(
        artifact.file.open("rb"),
        as_attachment=True,
        filename=queries.download_name(artifact.run, kind),
        content_type=ARTIFACT_FORMATS[kind][1],
    )
    if kind == "svg":
        # An SVG may carry script; opened from here it must not run in Prodbug's origin.
        response["Content-Security-Policy"] = "sandbox"
    return response


# speedscope (built from npm into static/vendor/speedscope) injects its own <style> elements
# and compiles a WebAssembly module at start, both of which the site-wide CSP forbids. This
# page alone allows inline styles and WebAssembly ('wasm-unsafe-eval' is not JavaScript eval),
# and still only our own scripts, and only our own origin to fetch the profile from.
SPEEDSCOPE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.WASM_UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.NONE],
    "object-src": [CSP.NONE],
}


@require_GET
@csp_override(SPEEDSCOPE_CSP)
def speedscope(request: HttpRequest) -> HttpResponse:
    """speedscope's index.html, its relative assets resolved under /static/ by a <base>."""
    index = finders.find("vendor/speedscope/index.html")
    if not index:
        return HttpResponse("speedscope is not built: run `make static`.", status=503)
    page = Path(str(index)).read_text()
    base = static("vendor/speedscope/")
    page = page.replace("<head>", f'<head>\n    <base href="{base}">', 1)
    return HttpResponse(page)
