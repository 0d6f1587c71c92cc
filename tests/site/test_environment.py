from django.conf import settings

from tests.conftest import REQUIRED


def test_it_runs_on_the_components_ci_requires() -> None:
    """With PRODBUG_TEST_REQUIRE set, the suite must really use PostgreSQL and Redis."""
    if "postgres" in REQUIRED:
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if "redis" in REQUIRED:
        assert settings.CELERY_BROKER_URL.startswith("redis://")
