"""Reads shared by the pages, the API and the report."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from profiling import flamegraph
from profiling.models import ARTIFACT_FORMATS, ArtifactKind, ProfileArtifact, ProfileRun
from services.models import Service
from sessions.models import DebugSession

PANEL_RUNS = 20
TOP_FUNCTIONS = 25
# Rendering a big profile takes a moment; artifacts never change, so their sha256 is the key.
CACHE_S = 3600


def session_runs(session: DebugSession, *, limit: int | None = PANEL_RUNS) -> list[ProfileRun]:
    runs = session.profile_runs.select_related("requested_by", "service").prefetch_related(
        "artifacts"
    )
    return list(runs[:limit] if limit else runs)


def profile_services(session: DebugSession) -> list[Service]:
    """The session's services that have a profiling target."""
    return [s for s in session.services.all() if s.can_profile]


def run_detail(run_id: int) -> QuerySet[ProfileRun]:
    return ProfileRun.objects.filter(pk=run_id).select_related("session", "service", "requested_by")


def download_name(run: ProfileRun, kind: str) -> str:
    """`<service>-<run>-<YYYYmmdd-HHMMSS><ext>`, the time the run started."""
    slug = run.service.slug if run.service else slugify(run.service_name) or "service"
    when = timezone.localtime(run.started_at or run.created_at).strftime("%Y%m%d-%H%M%S")
    return f"{slug}-{run.pk}-{when}{ARTIFACT_FORMATS[kind][0]}"


def _collapsed(run: ProfileRun) -> ProfileArtifact | None:
    return next((a for a in run.artifacts.all() if a.kind == ArtifactKind.COLLAPSED), None)


def _read(artifact: ProfileArtifact) -> flamegraph.Stacks:
    with artifact.file.open("rb") as handle:
        return flamegraph.parse_collapsed(handle.read().decode(errors="replace"))


@dataclass(frozen=True)
class FlameView:
    """What a flamegraph page shows: the drawing (HTML) and the function tables."""

    html: str
    total: int
    base_total: int
    frames: int
    hidden: int
    top_self: list[flamegraph.FunctionStat]
    top_total: list[flamegraph.FunctionStat]
    changes: list[flamegraph.FunctionChange]


def flame_view(run: ProfileRun) -> FlameView | None:
    """The interactive flamegraph of a run, None when it has no samples."""
    artifact = _collapsed(run)
    if artifact is None:
        return None
    key = f"profiling:flame:{artifact.sha256}"
    view = cache.get(key)
    if view is None:
        view = render_flame(_read(artifact))
        cache.set(key, view, CACHE_S)
    return view


def render_flame(stacks: flamegraph.Stacks) -> FlameView:
    analysis = flamegraph.analyze(flamegraph.build_tree(stacks))
    lay = analysis.layout
    return FlameView(
        html=flamegraph.render_interactive(lay),
        total=lay.total,
        base_total=0,
        frames=len(lay.frames),
        hidden=lay.hidden,
        top_self=flamegraph.top_functions(analysis.stats, by="self", limit=TOP_FUNCTIONS),
        top_total=flamegraph.top_functions(analysis.stats, by="total", limit=TOP_FUNCTIONS),
        changes=[],
    )


def diff_view(before: ProfileRun, after: ProfileRun) -> FlameView | None:
    a, b = _collapsed(before), _collapsed(after)
    if a is None or b is None:
        return None
    key = f"profiling:diff:{a.sha256}:{b.sha256}"
    view = cache.get(key)
    if view is None:
        diff = flamegraph.diff_trees(_read(a), _read(b))
        analysis = flamegraph.analyze(diff.root)
        lay = analysis.layout
        view = FlameView(
            html=flamegraph.render_interactive(lay, diff=True),
            total=lay.total,
            base_total=lay.base_total,
            frames=len(lay.frames),
            hidden=lay.hidden,
            top_self=[],
            top_total=[],
            changes=flamegraph.function_changes(
                flamegraph.function_stats(diff.before),
                diff.before.value,
                analysis.stats,
                diff.root.value,
                limit=TOP_FUNCTIONS,
            ),
        )
        cache.set(key, view, CACHE_S)
    return view


# --- Checklist evidence (CHECKLIST.md; registered in ProfilingConfig.ready) ----------------

# A run that sampled at least this long counts as a full 30 s profile (py-spy's own start-up
# makes a 30 s run measure a little over 30 s; a target that exited early measures less).
FULL_30S = 29.5


def _succeeded(session: DebugSession) -> QuerySet[ProfileRun]:
    return session.profile_runs.filter(state=ProfileRun.State.SUCCEEDED, samples__gt=0)


def _evidence(run: ProfileRun | None) -> str | None:
    if run is None:
        return None
    return f"profile #{run.pk} of {run.service_name}, {run.samples:,} samples"


def evidence_profile(session: DebugSession) -> str | None:
    return _evidence(_succeeded(session).order_by("id").first())


def evidence_profile_30s(session: DebugSession) -> str | None:
    full = _succeeded(session).filter(duration_s__gte=30, sampled_s__gte=FULL_30S)
    return _evidence(full.order_by("id").first())
