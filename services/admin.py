from django import forms
from django.contrib import admin

from services import links
from services.models import HealthCheck, LinkTemplate, Service


class HealthCheckInline(admin.TabularInline):
    model = HealthCheck
    extra = 0
    fields = ["name", "kind", "target", "timeout_ms", "method", "expect_status"]
    # Targets are validated (and DSN passwords encrypted) by the service pages and API.
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "base_url", "owner_team", "affected_by_default"]
    search_fields = ["name", "slug", "owner_team"]
    prepopulated_fields = {"slug": ["name"]}
    # The admin token is write-only: set it on the service's edit page or through the API.
    exclude = ["admin_token_encrypted"]
    inlines = [HealthCheckInline]


class LinkTemplateForm(forms.ModelForm):
    class Meta:
        model = LinkTemplate
        fields = ["service", "kind", "label", "base_url", "datasource_uid", "template",
                  "window_minutes"]  # fmt: skip

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        try:
            links.validate_template(data.get("kind", ""), data.get("template", ""))
        except ValueError as exc:
            self.add_error("template", str(exc))
        duplicate = LinkTemplate.objects.filter(service=data.get("service"), kind=data.get("kind"))
        if self.instance.pk:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            self.add_error("kind", "There is already a template of this kind for this scope.")
        return data


@admin.register(LinkTemplate)
class LinkTemplateAdmin(admin.ModelAdmin):
    form = LinkTemplateForm
    list_display = ["kind", "service", "label", "base_url"]
    list_filter = ["kind"]
