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
    path("<int:session_id>/report.md", views.session_report_md, name="report_md"),
]
