from django.apps import AppConfig


class ProfilingConfig(AppConfig):
    name = "profiling"
    label = "profiling"
    verbose_name = "Profiling"

    def ready(self) -> None:
        from profiling import interventions, queries, reports, signals, views
        from sessions import evidence, panels
        from sessions.reports import Section, report_sections

        signals.connect()
        interventions.register()
        panels.register(panels.Panel("profiles", views.PANEL, views.panel_context, order=20))
        evidence.register("profile_succeeded", queries.evidence_profile)
        evidence.register("profile_30s_succeeded", queries.evidence_profile_30s)
        report_sections.append(
            Section(
                "Profiles",
                reports.profiles_section,
                attachments=reports.profiles_attachments,
                order=20,
            )
        )
