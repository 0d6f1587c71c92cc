"""OFREP evaluation under load: 50 flags, 200 active overrides, gunicorn on 127.0.0.1.

Prints p50/p95 and requests/s of single-flag and bulk evaluation beside /healthz measured
in the same run, and the SQL queries per evaluation.
Usage: .venv/bin/python bench/ofrep.py [--seconds 20] [--clients 20]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt, gunicorn, load, setup_django


def build() -> str:
    from django.contrib.auth.models import User

    from accounts.models import ApiToken
    from flags import actions
    from sessions.actions import session_open

    user = User.objects.create(username="bench")
    session = session_open(title="OFREP bench", severity="SEV2", actor=user)
    flags = []
    for n in range(50):
        flag = actions.flag_create(
            key=f"flag-{n}", flag_type="boolean", variants={"on": True, "off": False},
            default_variant="off",
        )  # fmt: skip
        actions.flag_rule_add(
            flag=flag, attribute="email", operator="ends_with", values=[f"@team{n}.example"],
            variant="on",
        )  # fmt: skip
        flags.append(flag)
    for n in range(200):
        actions.override_create(
            session=session, flag=flags[n % 50], variant="on", attribute="targetingKey",
            operator="in", values=[f"user_{n}", f"user_{n + 1000}"], actor=user,
        )  # fmt: skip
    return ApiToken.issue(user=user, scope="ofrep")


def count_queries(token: str) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = '{"context": {"targetingKey": "user_7", "email": "x@team3.example"}}'
    client.post("/ofrep/v1/evaluate/flags/flag-7", body, content_type="application/json")
    counts = []
    for path in ("/ofrep/v1/evaluate/flags/flag-7", "/ofrep/v1/evaluate/flags"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(path, body, content_type="application/json")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    return counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    token = build()
    single_q, bulk_q = count_queries(token)
    print(f"database: {connection.vendor}; 50 flags, 200 active overrides")
    print(f"SQL queries per evaluation (warm snapshot): single {single_q}, bulk {bulk_q}")
    connection.close()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"context": {"targetingKey": "user_42", "email": "ann@team9.example"}}
    run = {"clients": args.clients, "seconds": args.seconds}
    print(f"\n{args.clients} concurrent clients, {args.seconds:.0f} s each")
    with gunicorn(args.port) as base:
        healthz = load(f"{base}/healthz", **run)
        single = load(f"{base}/ofrep/v1/evaluate/flags/flag-42", method="POST", json=body,
                      headers=headers, **run)  # fmt: skip
        bulk = load(f"{base}/ofrep/v1/evaluate/flags", method="POST", json=body,
                    headers=headers, **run)  # fmt: skip
    print("  " + fmt("/healthz", healthz))
    print("  " + fmt("single-flag evaluation", single))
    print("  " + fmt("bulk evaluation (50 flags)", bulk))
    print(
        f"\n  p95 ratios: single/healthz {single['p95_ms'] / healthz['p95_ms']:.2f} "
        f"(aim <= 1.5)   bulk/healthz {bulk['p95_ms'] / healthz['p95_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
