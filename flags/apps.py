from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Flags and log levels"

    def ready(self) -> None:
        from flags import interventions, reports, views
        from sessions import panels
        from sessions.reports import Section, report_sections

        interventions.register()
        report_sections.append(Section("Interventions", reports.interventions_section, order=10))
        panels.register(panels.Panel("interventions", views.PANEL, views.panel_context, order=10))
