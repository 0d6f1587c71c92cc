from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["key_hint", "user", "scope", "name", "created_at", "last_used_at"]
    list_filter = ["scope"]
    readonly_fields = ["key_hint", "created_at", "last_used_at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Tokens are shown once at creation; the command line is where they are made.
        return False
