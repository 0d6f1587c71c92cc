from django.contrib import admin

from sessions.models import ChecklistItem, ChecklistTemplate, ChecklistTemplateItem, DebugSession


class TemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    extra = 1
    fields = ["phase", "order", "title", "help", "auto_rule"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [TemplateItemInline]
    actions = ["duplicate"]

    @admin.action(description="Copy the selected templates")
    def duplicate(self, request, queryset):  # type: ignore[no-untyped-def]
        for template in queryset:
            items = list(template.items.all())
            template.pk = None
            template.name = f"{template.name} (copy)"
            template.is_default = False
            template.save()
            for item in items:
                item.pk = None
                item.template = template
                item.save()


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["phase", "title", "state", "assignee", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(DebugSession)
class DebugSessionAdmin(admin.ModelAdmin):
    # Sessions change through the app (every change lands on the timeline), not here.
    list_display = ["id", "title", "severity", "status", "commander", "opened_at"]
    list_filter = ["status", "severity"]
    readonly_fields = [
        "title",
        "summary",
        "severity",
        "status",
        "commander",
        "created_by",
        "opened_at",
        "identified_at",
        "mitigated_at",
        "resolved_at",
    ]
    exclude = ["participants"]
    inlines = [ChecklistItemInline]
