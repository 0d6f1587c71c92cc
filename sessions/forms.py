from django import forms
from django.contrib.auth import get_user_model

from services.models import Service
from sessions.models import ChecklistTemplate, ItemState, Severity


def errors_text(form: forms.Form) -> str:
    """A form's errors on one line, each naming its field (for fragments and flashes)."""
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


def _active_users() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        to_field_name="username",
    )


class SessionForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV2)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    commander = _active_users()
    template = forms.ModelChoiceField(
        queryset=ChecklistTemplate.objects.all(), required=False, label="Checklist"
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.all(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        label="Affected services",
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["services"].initial = [
            s.slug for s in Service.objects.filter(affected_by_default=True)
        ]
        self.fields["commander"].help_text = "Defaults to you."
        self.fields["template"].initial = ChecklistTemplate.objects.filter(is_default=True).first()


class ItemForm(forms.Form):
    """One field at a time from the item's small forms; `version` guards against lost
    updates. A field absent from the POST is left as it is."""

    version = forms.IntegerField(min_value=1)
    state = forms.ChoiceField(choices=ItemState.choices, required=False)
    assignee = _active_users()
    note = forms.CharField(required=False, max_length=5000)


class StatusForm(forms.Form):
    status = forms.CharField(max_length=20)


class NoteForm(forms.Form):
    text = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 2}))


class TraceForm(forms.Form):
    trace = forms.CharField(
        max_length=200, label="traceparent or trace id",
        help_text="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 or a 32-hex id",
    )  # fmt: skip
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), required=False, to_field_name="slug"
    )
    note = forms.CharField(max_length=500, required=False)


class FindingsForm(forms.Form):
    findings = forms.CharField(
        max_length=50_000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )


class FollowUpForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner = _active_users()
    due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    url = forms.URLField(max_length=500, required=False, assume_scheme="https")
