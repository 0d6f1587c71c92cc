from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # `sessions` would collide with django.contrib.sessions.
    label = "debug_sessions"
    verbose_name = "Debug sessions"

    def ready(self) -> None:
        from sessions import evidence_rules

        evidence_rules.register()
