from django.db.models import QuerySet

from flags import evaluation
from flags.models import FlagOverride
from sessions.models import DebugSession


def session_overrides(session: DebugSession) -> QuerySet[FlagOverride]:
    return session.flag_overrides.select_related("flag", "created_by", "reverted_by")


def evaluate_all(context: dict[str, object]) -> list[tuple[str, evaluation.Evaluation | str]]:
    """Every flag for `context`: the evaluation, or the reason it could not be evaluated."""
    rows: list[tuple[str, evaluation.Evaluation | str]] = []
    for key, flag in sorted(evaluation.snapshot().items()):
        try:
            rows.append((key, evaluation.evaluate(flag, context)))
        except evaluation.ContextError as exc:
            rows.append((key, f"{exc.code}: {exc.details}"))
    return rows
