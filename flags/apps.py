from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Flags and log levels"

    def ready(self) -> None:
        from flags import interventions, views
        from sessions import panels

        interventions.register()
        panels.register(panels.Panel("interventions", views.PANEL, views.panel_context, order=10))
