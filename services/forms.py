from django import forms

from services.models import CheckKind, LogLevelProtocol


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=100)
    base_url = forms.CharField(max_length=500, label="Base URL")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    owner_team = forms.CharField(max_length=100, required=False)
    affected_by_default = forms.BooleanField(required=False)
    log_level_protocol = forms.ChoiceField(
        choices=LogLevelProtocol.choices, initial=LogLevelProtocol.PRODBUG, required=False
    )
    admin_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current token.",
    )
    clear_admin_token = forms.BooleanField(required=False, label="Remove the stored token")


class CheckForm(forms.Form):
    kind = forms.ChoiceField(choices=CheckKind.choices)
    name = forms.CharField(max_length=100, required=False)
    target = forms.CharField(
        max_length=500,
        required=False,
        help_text="URL (http), host:port (tcp), DSN (postgres), redis:// URL; empty for system.",
    )
    timeout_ms = forms.IntegerField(min_value=100, max_value=10_000, initial=2000)
    method = forms.ChoiceField(choices=[("GET", "GET"), ("HEAD", "HEAD")], initial="GET")
    expect_status = forms.CharField(max_length=7, initial="200-399")
    body_contains = forms.CharField(max_length=200, required=False)
    follow_redirects = forms.BooleanField(required=False)
