from django.contrib import admin

from flags import actions
from flags.models import Flag, FlagOverride, FlagRule, LogLevelOverride


class FlagRuleInline(admin.TabularInline):
    model = FlagRule
    extra = 0
    fields = ["order", "attribute", "operator", "values", "variant"]


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["key", "type", "default_variant", "enabled", "updated_at"]
    search_fields = ["key", "description"]
    inlines = [FlagRuleInline]

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        # Evaluation caches flags per process: tell every process they changed.
        actions.flags_changed()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        actions.flags_changed()


@admin.register(FlagOverride)
class FlagOverrideAdmin(admin.ModelAdmin):
    # Overrides are made, extended and reverted from sessions (recorded on the timeline).
    list_display = ["flag", "variant", "attribute", "operator", "session", "expires_at",
                    "reverted_at"]  # fmt: skip
    list_filter = ["flag"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(LogLevelOverride)
class LogLevelOverrideAdmin(FlagOverrideAdmin):
    list_display = ["service", "logger", "level", "state", "session", "expires_at",
                    "reverted_at", "verified"]  # fmt: skip
    list_filter = ["state", "service"]
