from django import forms

from profiling.models import (
    DEFAULT_DURATION_S,
    DEFAULT_RATE_HZ,
    MAX_DURATION_S,
    MAX_RATE_HZ,
    MIN_DURATION_S,
    MIN_RATE_HZ,
)
from services.models import Service


class StartForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), to_field_name="slug")
    duration_s = forms.IntegerField(
        min_value=MIN_DURATION_S, max_value=MAX_DURATION_S, initial=DEFAULT_DURATION_S
    )
    rate_hz = forms.IntegerField(
        min_value=MIN_RATE_HZ, max_value=MAX_RATE_HZ, initial=DEFAULT_RATE_HZ
    )
    idle = forms.BooleanField(required=False)
    native = forms.BooleanField(required=False)
    subprocesses = forms.BooleanField(required=False)
    gil = forms.BooleanField(required=False)

    def __init__(self, *args: object, services: list[Service], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].queryset = Service.objects.filter(  # type: ignore[attr-defined]
            pk__in=[s.pk for s in services]
        )

    def error_text(self) -> str:
        return "; ".join(f"{field}: {' '.join(errs)}" for field, errs in self.errors.items())


class DiffForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)
