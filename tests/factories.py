import factory
from django.contrib.auth.models import User

from sessions import actions
from sessions.models import DebugSession


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery")


def make_session(actor: User, **kwargs: object) -> DebugSession:
    """A session opened the way users open them, with the default checklist."""
    return actions.session_open(
        title=str(kwargs.pop("title", "Checkout returns 500")),
        severity=str(kwargs.pop("severity", "SEV2")),
        actor=actor,
        **kwargs,  # type: ignore[arg-type]
    )
