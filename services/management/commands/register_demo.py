import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from services import actions
from services.models import Service

DEMO_SLUG = "demo-shop"


def demo_token(state_dir: Path) -> str:
    """The demo's admin token, shared with the demo process through its state folder."""
    state_dir.mkdir(parents=True, exist_ok=True)
    token_file = state_dir / "admin_token"
    if not token_file.exists():
        token_file.write_text(secrets.token_urlsafe(24))
        token_file.chmod(0o600)
    return token_file.read_text().strip()


class Command(BaseCommand):
    help = "Register the bundled demo service `demo-shop` (once) with http, tcp and system checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--state-dir", default=str(settings.VAR_DIR / "demo"))

    def handle(self, *args: Any, **options: Any) -> None:
        # The Procfile's demo writes its gunicorn master's PID here; profiles of it need the
        # "subprocesses" option to reach the workers.
        pid_file = str(Path(options["state_dir"]).resolve() / "gunicorn.pid")
        existing = Service.objects.filter(slug=DEMO_SLUG).first()
        if existing is not None:
            if not existing.process_selector:  # registered before profiling existed
                actions.service_update(
                    service=existing, changes={"process_selector": {"pid_file": pid_file}}
                )
            self.stdout.write(f"Demo service {DEMO_SLUG} is registered.")
            return
        base = f"http://127.0.0.1:{options['port']}"
        service = actions.service_create(
            name="demo-shop",
            slug=DEMO_SLUG,
            base_url=base,
            description="The demo shop shipped with Prodbug: something real to debug.",
            owner_team="prodbug",
            affected_by_default=True,
            admin_token=demo_token(Path(options["state_dir"])),
            process_selector={"pid_file": pid_file},
        )
        for data in (
            actions.CheckInput(
                kind="http",
                name="GET /health",
                target=f"{base}/health",
                expect_status="200",
                body_contains="pass",
            ),
            actions.CheckInput(kind="tcp", name="port open", target=f"127.0.0.1:{options['port']}"),
            actions.CheckInput(kind="system", name="host resources"),
        ):
            actions.check_create(service=service, data=data)
        self.stdout.write(f"Registered demo service {DEMO_SLUG} at {base} with 3 checks.")
