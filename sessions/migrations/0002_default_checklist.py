"""Loads the default five-phase checklist (shared/CHECKLIST.md) as a template."""

from django.db import migrations

DEFAULT_CHECKLIST = [
    (
        1,
        [
            ("Find the trace ID of a failing request in the error logs", "trace_recorded"),
            ("Decide whether the problem hits specific users or everyone", ""),
            ("Check recent deployments and configuration changes", ""),
            ("Look at infrastructure metrics (CPU, memory, network)", "system_health_run"),
        ],
    ),
    (
        2,
        [
            ("Turn on debug logging for the affected users or requests", "flag_override_applied"),
            ("Correlate the logs with distributed traces", "trace_with_service"),
            ("Look for errors in the services this one depends on", "health_run_done"),
            ("Review recent alerts and anomalies", ""),
            ("Compare current behaviour with the baseline", ""),
        ],
    ),
    (
        3,
        [
            ("Capture trace IDs of the failing requests", "trace_recorded"),
            ("Export the relevant log lines", ""),
            ("Collect profiling data (for performance problems)", "profile_succeeded"),
            ("Save the state of the monitoring dashboards", ""),
        ],
    ),
    (
        4,
        [
            ("Enable the debug flag for the targeted users", "flag_override_applied"),
            ("Raise the log level for the specific modules", "log_level_applied"),
            ("Run the sampling profiler for 30–60 seconds", "profile_30s_succeeded"),
            ("Replay the request in staging, if possible", ""),
        ],
    ),
    (
        5,
        [
            ("Turn debug mode off again", "no_active_flag_override"),
            ("Restore the original log levels", "log_levels_restored"),
            ("Write the findings into the incident report", "findings_written"),
            ("File follow-up tasks for the permanent fixes", "follow_up_recorded"),
        ],
    ),
]


def load(apps, schema_editor):
    template_model = apps.get_model("debug_sessions", "ChecklistTemplate")
    item_model = apps.get_model("debug_sessions", "ChecklistTemplateItem")
    template, _ = template_model.objects.get_or_create(
        name="Production debugging (default)",
        defaults={
            "description": "The five-phase production-debugging checklist.",
            "is_default": True,
        },
    )
    if template.items.exists():
        return
    for phase, items in DEFAULT_CHECKLIST:
        for order, (title, rule) in enumerate(items):
            item_model.objects.create(
                template=template, phase=phase, title=title, order=order, auto_rule=rule
            )


def unload(apps, schema_editor):
    apps.get_model("debug_sessions", "ChecklistTemplate").objects.filter(
        name="Production debugging (default)"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("debug_sessions", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
