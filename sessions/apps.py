from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # `sessions` would collide with django.contrib.sessions.
    label = "debug_sessions"
    verbose_name = "Debug sessions"
