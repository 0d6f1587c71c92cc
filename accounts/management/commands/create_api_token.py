from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user; the token is printed once, as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--scope", choices=[s.value for s in ApiToken.Scope], default="api")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=options["username"])
        except user_model.DoesNotExist as exc:
            raise CommandError(f"no user named {options['username']!r}") from exc
        raw = ApiToken.issue(user=user, scope=options["scope"], name=options["name"])
        self.stdout.write(f"Token for {user.username} (scope {options['scope']}); keep it safe:")
        self.stdout.write(raw)
