from django.urls import path

from sessions import views

app_name = "sessions"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("new", views.session_new, name="new"),
    path("<int:session_id>/", views.session_detail, name="detail"),
    path("<int:session_id>/live", views.session_live, name="live"),
    path("<int:session_id>/status", views.session_status, name="status"),
    path("<int:session_id>/notes", views.session_note, name="note"),
    path("<int:session_id>/items/<int:item_id>", views.item_update, name="item"),
    path("<int:session_id>/items/<int:item_id>/menu", views.item_menu, name="item_menu"),
    path("<int:session_id>/health", views.session_health, name="health"),
    path("<int:session_id>/health-runs", views.session_health_run, name="health_run"),
    path("<int:session_id>/services", views.session_services, name="services"),
    path("<int:session_id>/traces", views.trace_add, name="trace_add"),
    path(
        "<int:session_id>/traces/<int:trace_id>/open/<int:index>",
        views.trace_open,
        name="trace_open",
    ),
    path("<int:session_id>/findings", views.findings_edit, name="findings"),
    path("<int:session_id>/follow-ups", views.followup_add, name="followup_add"),
    path(
        "<int:session_id>/follow-ups/<int:follow_up_id>",
        views.followup_state,
        name="followup_state",
    ),
    path("<int:session_id>/resolve", views.session_resolve, name="resolve"),
    path("<int:session_id>/report.md", views.session_report, {"fmt": "md"}, name="report_md"),
    path("<int:session_id>/report.html", views.session_report, {"fmt": "html"}, name="report_html"),
    path("<int:session_id>/report.zip", views.session_report, {"fmt": "zip"}, name="report_zip"),
]
