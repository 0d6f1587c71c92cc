from collections import defaultdict

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from services.models import HealthCheck, HealthResult, HealthRun, Service

SPARK_POINTS = 30


def services_with_checks() -> QuerySet[Service]:
    return Service.objects.prefetch_related("checks")


def recent_results(
    check_ids: list[int], limit: int = SPARK_POINTS
) -> dict[int, list[HealthResult]]:
    """The last `limit` results of each check, oldest first, in one query."""
    ranked = (
        HealthResult.objects.filter(health_check_id__in=check_ids)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("health_check_id")], order_by=F("id").desc())
        )
        .filter(rank__lte=limit)
        .order_by("health_check_id", "id")
    )
    by_check: dict[int, list[HealthResult]] = defaultdict(list)
    for result in ranked:
        by_check[result.health_check_id].append(result)
    return by_check


def run_rows(run: HealthRun) -> list[dict[str, object]]:
    """One row per check of a finished run, with the check's recent latency history."""
    results = list(
        run.results.select_related("health_check__service").order_by(
            "health_check__service__name", "health_check_id"
        )
    )
    history = recent_results([r.health_check_id for r in results])
    return [
        {"result": r, "check": r.health_check, "history": history.get(r.health_check_id, [])}
        for r in results
    ]


def latest_results(checks: list[HealthCheck]) -> dict[int, HealthResult]:
    history = recent_results([c.pk for c in checks], limit=1)
    return {check_id: rows[-1] for check_id, rows in history.items() if rows}
