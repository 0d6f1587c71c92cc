"""Incident report cost: a session with 2,000 timeline events, 200 checklist items,
20 profiles and 50 interventions. Prints the time and SQL queries to build each format and
the zip's size; the query count must not depend on the number of events.
Usage: .venv/bin/python bench/report.py
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup_django


def build(events: int) -> int:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from flags import actions as flag_actions
    from flags.models import LogLevelOverride
    from services import actions as service_actions
    from sessions import actions
    from sessions.models import ChecklistItem, TimelineEvent

    user, _ = User.objects.get_or_create(username="bench")
    service = service_actions.service_create(name=f"svc-{events}", base_url="http://127.0.0.1:9")
    session = actions.session_open(title=f"Report bench {events}", severity="SEV1", actor=user,
                                   services=[service])  # fmt: skip
    ChecklistItem.objects.bulk_create(
        ChecklistItem(session=session, phase=1 + n % 5, title=f"Extra step {n}", order=100 + n,
                      state="done" if n % 3 else "todo", done_by=user, note=f"note {n}")
        for n in range(200 - session.items.count())
    )  # fmt: skip
    variants = {"on": True, "off": False}
    flag = flag_actions.flag_create(
        key=f"flag-{events}", flag_type="boolean", variants=variants, default_variant="off"
    )
    for n in range(25):
        flag_actions.override_create(session=session, flag=flag, variant="on",
                                     attribute="targetingKey", operator="in",
                                     values=[f"user_{n}"], actor=user)  # fmt: skip
    LogLevelOverride.objects.bulk_create(
        LogLevelOverride(session=session, service=service, logger=f"mod{n}", level="DEBUG",
                         state="reverted", verified=True, previous_effective="INFO",
                         applied_at=timezone.now(), reverted_at=timezone.now(),
                         expires_at=timezone.now() + timedelta(minutes=5), created_by=user)
        for n in range(25)
    )  # fmt: skip
    _profiles(session, service, user)
    for n in range(5):
        actions.trace_add(session=session, actor=user, trace_id=f"{n + 1:032x}")
    have = session.events.count()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(session=session, actor=user, kind="note", message=f"Event {n}")
        for n in range(max(0, events - have))
    )
    return session.pk


def _profiles(session, service, user) -> None:  # type: ignore[no-untyped-def]
    """20 succeeded profile runs with real artifacts (SVG, speedscope, collapsed)."""
    from django.utils import timezone

    from profiling.actions import _store_artifacts
    from profiling.flamegraph import parse_collapsed, total_samples
    from profiling.models import ProfileRun

    raw = "\n".join(
        f"main (app.py:1);handle (app.py:{n});work_{n % 40} (app.py:{n}) {10 + n}"
        for n in range(400)
    )
    stacks = parse_collapsed(raw)
    samples = total_samples(stacks)
    for _ in range(20):
        run = ProfileRun.objects.create(
            session=session, service=service, service_name=service.name, requested_by=user,
            agent="local", duration_s=30, rate_hz=100, state="succeeded", samples=samples,
            started_at=timezone.now(), finished_at=timezone.now(),
        )  # fmt: skip
        _store_artifacts(run, stacks, raw, run.samples)


def measure(session_id: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions import reports
    from sessions.models import DebugSession

    for fmt, build_one in (("md", reports.report_markdown), ("html", reports.report_html),
                           ("zip", reports.report_zip)):  # fmt: skip
        session = DebugSession.objects.get(pk=session_id)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            out = build_one(session)
            took = time.perf_counter() - started
        size = len(out if isinstance(out, bytes) else out.encode())
        print(f"  {fmt:<4}  {took * 1000:8.1f} ms  {len(ctx.captured_queries):3d} queries  "
              f"{size / 1024:8.1f} KiB")  # fmt: skip


def main() -> None:
    setup_django()
    from django.db import connection

    print(f"database: {connection.vendor}")
    for events in (200, 2000):
        sid = build(events)
        print(f"\nsession with {events} events, 200 items, 50 interventions, profiles:")
        measure(sid)


if __name__ == "__main__":
    main()
