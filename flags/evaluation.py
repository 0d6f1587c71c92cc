"""Flag evaluation from a per-process snapshot of all flags, rules and live overrides.

The snapshot is rebuilt only when FlagsVersion moves, so an evaluation costs one small
query however many flags and overrides exist. Expiry is checked against the clock on
every evaluation: an override stops matching the instant it expires.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import regex
from django.utils import timezone

from flags.models import Flag, FlagOverride, FlagsVersion, Operator

REGEX_TIMEOUT_S = 0.01
MAX_INPUT = 1000


class ContextError(ValueError):
    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    values: tuple[str, ...]
    pattern: Any = None

    @classmethod
    def build(cls, attribute: str, operator: str, values: list[Any]) -> "Condition":
        texts = tuple(str(v) for v in values)
        pattern = regex.compile(texts[0]) if operator == Operator.MATCHES and texts else None
        return cls(attribute, operator, texts, pattern)

    def matches(self, context: Mapping[str, Any]) -> bool:
        raw = context.get(self.attribute)
        if raw is None or isinstance(raw, dict | list):
            return False
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        op = self.operator
        if op == Operator.IN:
            return value in self.values
        if op == Operator.NOT_IN:
            return value not in self.values
        if op == Operator.EQUALS:
            return value == self.values[0]
        if op == Operator.CONTAINS:
            return any(v in value for v in self.values)
        if op == Operator.STARTS_WITH:
            return value.startswith(self.values)
        if op == Operator.ENDS_WITH:
            return value.endswith(self.values)
        if op == Operator.MATCHES:
            try:
                return bool(self.pattern.search(value[:MAX_INPUT], timeout=REGEX_TIMEOUT_S))
            except TimeoutError:
                return False  # a pathological pattern must not stall evaluation
        return False


@dataclass(frozen=True)
class OverrideDef:
    id: int
    session_id: int
    session_title: str
    variant: str
    condition: Condition
    expires_at: datetime


@dataclass(frozen=True)
class RuleDef:
    index: int
    variant: str
    condition: Condition


@dataclass
class FlagDef:
    key: str
    type: str
    variants: dict[str, Any]
    default_variant: str
    enabled: bool
    rules: list[RuleDef] = field(default_factory=list)
    overrides: list[OverrideDef] = field(default_factory=list)  # newest first

    @property
    def uses_targeting_key(self) -> bool:
        conditions = [r.condition for r in self.rules] + [o.condition for o in self.overrides]
        return any(c.attribute == "targetingKey" for c in conditions)


@dataclass(frozen=True)
class Evaluation:
    key: str
    value: Any
    variant: str
    reason: str
    why: str
    metadata: dict[str, Any]

    def ofrep(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "reason": self.reason,
            "variant": self.variant,
            "metadata": self.metadata,
        }


_lock = threading.Lock()
_snapshot: tuple[int, dict[str, FlagDef]] = (-1, {})


def current_version() -> int:
    row = FlagsVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


def _load() -> dict[str, FlagDef]:
    flags: dict[str, FlagDef] = {}
    for flag in Flag.objects.prefetch_related("rules"):
        flags[flag.key] = FlagDef(
            key=flag.key,
            type=flag.type,
            variants=flag.variants,
            default_variant=flag.default_variant,
            enabled=flag.enabled,
            rules=[
                RuleDef(i, r.variant, Condition.build(r.attribute, r.operator, r.values))
                for i, r in enumerate(flag.rules.all(), start=1)
            ],
        )
    live = (
        FlagOverride.objects.filter(reverted_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("flag", "session")
        .order_by("-created_at", "-id")
    )
    for o in live:
        flags[o.flag.key].overrides.append(
            OverrideDef(
                id=o.pk,
                session_id=o.session_id,
                session_title=o.session.title,
                variant=o.variant,
                condition=Condition.build(o.attribute, o.operator, o.values),
                expires_at=o.expires_at,
            )
        )
    return flags


def snapshot() -> dict[str, FlagDef]:
    """All flags, rebuilt when another process (or this one) changed anything."""
    global _snapshot
    version = current_version()
    if _snapshot[0] != version:
        with _lock:
            if _snapshot[0] != version:
                _snapshot = (version, _load())
    return _snapshot[1]


def check_context(context: Any) -> dict[str, Any]:
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ContextError("INVALID_CONTEXT", "context must be a JSON object")
    key = context.get("targetingKey")
    if key is not None and not isinstance(key, str):
        raise ContextError("INVALID_CONTEXT", "targetingKey must be a string")
    return context


def evaluate(flag: FlagDef, context: Mapping[str, Any], now: datetime | None = None) -> Evaluation:
    now = now or timezone.now()

    def result(variant: str, reason: str, why: str, **metadata: Any) -> Evaluation:
        return Evaluation(flag.key, flag.variants.get(variant), variant, reason, why, metadata)

    if not flag.enabled:
        return result(flag.default_variant, "DISABLED", "flag disabled: default variant")
    if flag.uses_targeting_key and not context.get("targetingKey"):
        raise ContextError("TARGETING_KEY_MISSING", "this flag targets on targetingKey")
    for override in flag.overrides:
        if override.expires_at > now and override.condition.matches(context):
            c = override.condition
            return result(
                override.variant,
                "TARGETING_MATCH",
                f"override #{override.id} from session #{override.session_id} "
                f"({c.attribute} {c.operator} {', '.join(c.values)}), "
                f"until {timezone.localtime(override.expires_at):%H:%M:%S}",
                session=override.session_id,
                sessionTitle=override.session_title,
                override=override.id,
                expiresAt=override.expires_at.isoformat(),
            )
    for rule in flag.rules:
        if rule.condition.matches(context):
            c = rule.condition
            return result(
                rule.variant,
                "TARGETING_MATCH",
                f"rule {rule.index} ({c.attribute} {c.operator} {', '.join(c.values)})",
                rule=rule.index,
            )
    if not flag.rules and not any(o.expires_at > now for o in flag.overrides):
        return result(flag.default_variant, "STATIC", "no targeting: default variant")
    return result(flag.default_variant, "DEFAULT", "no rule or override matched: default variant")
