import json
from typing import Any

from django import forms

from flags.actions import DEFAULT_OVERRIDE_S
from flags.models import Flag, FlagType, Operator


def parse_values(text: str) -> list[str]:
    """Values typed as one per line or comma-separated."""
    parts = [p.strip() for line in text.splitlines() for p in line.split(",")]
    return [p for p in parts if p]


class OverrideForm(forms.Form):
    # "flag-key|variant": one select grouped by flag, so only real pairs can be picked.
    flag_variant = forms.CharField(max_length=201)
    attribute = forms.CharField(max_length=100, initial="targetingKey")
    operator = forms.ChoiceField(choices=Operator.choices, initial=Operator.IN)
    values = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    duration_min = forms.IntegerField(min_value=1, max_value=1440, initial=DEFAULT_OVERRIDE_S // 60)
    reason = forms.CharField(max_length=500, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key, _, variant = str(data.get("flag_variant", "")).partition("|")
        flag = Flag.objects.filter(key=key).first()
        if flag is None:
            raise forms.ValidationError(f"Unknown flag {key!r}.")
        data["flag"], data["variant"] = flag, variant
        return data


class ExtendForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=1440, initial=15)


class EvaluateForm(forms.Form):
    context = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_context(self) -> dict[str, Any]:
        text = self.cleaned_data["context"].strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
            if not isinstance(value, dict):
                raise forms.ValidationError("The context must be a JSON object.")
            return value
        context: dict[str, Any] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            if "=" not in line:
                raise forms.ValidationError(f"Expected key=value, got {line.strip()!r}.")
            key, value = line.split("=", 1)
            context[key.strip()] = value.strip()
        return context


class FlagForm(forms.Form):
    key = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=FlagType.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    variants = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        initial='{"on": true, "off": false}',
        help_text="JSON object: variant name → value.",
    )
    default_variant = forms.CharField(max_length=100, initial="off")

    def clean_variants(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["variants"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Use a JSON object of variant name → value.")
        return value


class RuleForm(forms.Form):
    attribute = forms.CharField(max_length=100)
    operator = forms.ChoiceField(choices=Operator.choices)
    values = forms.CharField(max_length=5000)
    variant = forms.CharField(max_length=100)


class LogLevelForm(forms.Form):
    service = forms.SlugField(max_length=100)
    logger = forms.CharField(max_length=300)
    level = forms.CharField(max_length=10)
    duration_min = forms.IntegerField(min_value=1, max_value=240, initial=15)
    reason = forms.CharField(max_length=500, required=False)
