import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.roles import Role


class Command(BaseCommand):
    help = "Create the `admin` account if no superuser exists, and print its password once."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            name = user_model.objects.filter(is_superuser=True).order_by("pk").first()
            self.stdout.write(
                f"Admin login: {name.get_username()} (its password was printed when it was "
                "created; `python manage.py changepassword admin` sets a new one)."
            )
            return
        password = os.environ.get("PRODBUG_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = user_model.objects.create_superuser("admin", email="", password=password)
        user.groups.add(Group.objects.get(name=Role.ADMIN))
        shown = (
            "(from PRODBUG_ADMIN_PASSWORD)"
            if os.environ.get("PRODBUG_ADMIN_PASSWORD")
            else password
        )
        bar = "=" * 60
        self.stdout.write(f"{bar}\n  Prodbug admin login:  admin / {shown}\n  (shown once)\n{bar}")
