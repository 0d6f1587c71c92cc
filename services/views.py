from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_configure
from services import actions, queries
from services.forms import CheckForm, ServiceForm
from services.models import HealthCheck, LogLevelProtocol, Service


def _form_error(form: ServiceForm | CheckForm, exc: actions.ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    services = list(queries.services_with_checks())
    checks = [c for s in services for c in s.checks.all()]
    return render(
        request,
        "services/list.html",
        {"services": services, "latest": queries.latest_results(checks)},
    )


@require_http_methods(["GET", "POST"])
def service_new(request: HttpRequest) -> HttpResponse:
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins register services.")
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service = actions.service_create(
                name=data["name"],
                base_url=data["base_url"],
                description=data["description"],
                owner_team=data["owner_team"],
                affected_by_default=data["affected_by_default"],
                admin_token=data["admin_token"] or None,
                log_level_protocol=data["log_level_protocol"] or LogLevelProtocol.PRODBUG,
            )
            return redirect("services:detail", slug=service.slug)
        except actions.ServiceError as exc:
            _form_error(form, exc)
    status = 400 if form.is_bound else 200
    return render(request, "services/edit.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins edit services.")
    initial = {
        f: getattr(service, f)
        for f in (
            "name",
            "base_url",
            "description",
            "owner_team",
            "affected_by_default",
            "log_level_protocol",
        )
    }
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in initial}
        changes["log_level_protocol"] = changes["log_level_protocol"] or LogLevelProtocol.PRODBUG
        if form.cleaned_data["clear_admin_token"]:
            changes["admin_token"] = ""
        elif form.cleaned_data["admin_token"]:
            changes["admin_token"] = form.cleaned_data["admin_token"]
        try:
            actions.service_update(service=service, changes=changes)
            return redirect("services:detail", slug=service.slug)
        except actions.ServiceError as exc:
            _form_error(form, exc)
    status = 400 if form.is_bound else 200
    ctx = {"form": form, "service": service}
    return render(request, "services/edit.html", ctx, status=status)


@require_GET
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    return render(request, "services/detail.html", _detail_context(service, CheckForm()))


def _detail_context(service: Service, check_form: CheckForm) -> dict[str, object]:
    checks = list(service.checks.all())
    history = queries.recent_results([c.pk for c in checks])
    return {
        "service": service,
        "rows": [(c, history.get(c.pk, [])) for c in checks],
        "check_form": check_form,
    }


@require_POST
def check_add(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins add health checks.")
    form = CheckForm(request.POST)
    if form.is_valid():
        try:
            actions.check_create(service=service, data=actions.CheckInput(**form.cleaned_data))
            return redirect("services:detail", slug=service.slug)
        except actions.ServiceError as exc:
            _form_error(form, exc)
    return render(request, "services/detail.html", _detail_context(service, form), status=400)


@require_POST
def check_delete(request: HttpRequest, slug: str, check_id: int) -> HttpResponse:
    check = get_object_or_404(HealthCheck, pk=check_id, service__slug=slug)
    if not can_configure(request.user):
        return HttpResponseForbidden("Only admins remove health checks.")
    check.delete()
    return redirect("services:detail", slug=slug)
