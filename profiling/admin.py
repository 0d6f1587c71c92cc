from django.contrib import admin

from profiling.models import ProfileArtifact, ProfileRun


class ArtifactInline(admin.TabularInline):
    model = ProfileArtifact
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "file", "size", "sha256", "created_at"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ProfileRun)
class ProfileRunAdmin(admin.ModelAdmin):
    """Read-only: runs are made and ended through the actions. Deleting one removes its
    files (see signals)."""

    list_display = ["id", "service_name", "session", "state", "duration_s", "samples", "created_at"]
    list_filter = ["state", "agent"]
    search_fields = ["service_name", "command"]
    inlines = [ArtifactInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
