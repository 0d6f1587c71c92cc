"""Session page and live poll: SQL queries by item count, and latency under load.

Prints (a) queries for the page and the poll at 20 and 200 items, (b) p50/p95 of the page,
the "unchanged" poll and /healthz under 20 concurrent clients, and the ratios to /healthz.
Usage: .venv/bin/python bench/session_page.py [--seconds 20] [--clients 20]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, gunicorn, load, login_cookie, setup_django


def build(items: int, events: int) -> int:
    from django.contrib.auth.models import Group, User

    from sessions import actions
    from sessions.models import ChecklistItem, TimelineEvent

    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="responder"))
    for n in range(5):
        User.objects.get_or_create(username=f"teammate{n}")
    session = actions.session_open(title=f"Bench {items}", severity="SEV1", actor=user)
    have = session.items.count()
    ChecklistItem.objects.bulk_create(
        ChecklistItem(session=session, phase=1 + n % 5, title=f"Extra step {n}", order=100 + n)
        for n in range(items - have)
    )
    TimelineEvent.objects.bulk_create(
        TimelineEvent(session=session, actor=user, kind="item.updated", message=f"Event {n}")
        for n in range(events - 1)
    )
    return session.pk


def count_queries(session_id: int) -> tuple[int, int, int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sessions.queries import session_version

    client = Client()
    client.cookies["sessionid"] = login_cookie("bench")
    version = session_version(session_id)
    counts = []
    for path, params in [
        (f"/sessions/{session_id}/", {}),  # first view of this version: renders the checklist
        (f"/sessions/{session_id}/", {}),  # everyone after: fragments from the cache
        (f"/sessions/{session_id}/live", {"v": version}),
        (f"/sessions/{session_id}/live", {"v": 0}),
    ]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, params)
        assert response.status_code in (200, 204), response.status_code
        counts.append(len(ctx.captured_queries))
    return counts[0], counts[1], counts[2], counts[3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from sessions.queries import session_version

    print(f"database: {connection.vendor}")
    small = build(20, 2000)
    large = build(200, 2000)
    print("\n(a) SQL queries per request")
    for label, sid in [("20 items", small), ("200 items", large)]:
        cold, warm, unchanged, changed = count_queries(sid)
        print(
            f"  {label:<10} page {cold:3d} (first view of a version) {warm:3d} (cached)   "
            f"poll unchanged {unchanged:3d}   poll changed {changed:3d}"
        )

    cookie = {"sessionid": login_cookie("bench")}
    version = session_version(large)
    connection.close()
    print(
        f"\n(b) {args.clients} concurrent clients, {args.seconds:.0f} s each, "
        "200 items / 2,000 events"
    )
    with gunicorn(args.port) as base:
        healthz = load(f"{base}/healthz", clients=args.clients, seconds=args.seconds)
        page = load(f"{base}/sessions/{large}/", clients=args.clients, seconds=args.seconds,
                    cookies=cookie)  # fmt: skip
        poll = load(f"{base}/sessions/{large}/live?v={version}", clients=args.clients,
                    seconds=args.seconds, cookies=cookie, expect=204)  # fmt: skip
    print("  " + fmt("/healthz", healthz))
    print("  " + fmt("session page", page))
    print("  " + fmt("poll (unchanged, 204)", poll))
    print(
        f"\n  ratios of p95: page/healthz {page['p95_ms'] / healthz['p95_ms']:.2f} (aim <= 4.0)   "
        f"unchanged-poll/healthz {poll['p95_ms'] / healthz['p95_ms']:.2f} (aim <= 1.5)"
    )


if __name__ == "__main__":
    main()
