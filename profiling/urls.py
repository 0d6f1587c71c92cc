from django.urls import path

from profiling import views

app_name = "profiling"
urlpatterns = [
    path("<int:run_id>/", views.profile_detail, name="detail"),
    path("<int:run_id>/progress", views.profile_progress, name="progress"),
    path("<int:run_id>/cancel", views.profile_cancel, name="cancel"),
    path("<int:run_id>/download/<str:kind>", views.profile_download, name="download"),
    path("diff", views.profile_diff, name="diff"),
    path("speedscope/", views.speedscope, name="speedscope"),
    path("sessions/<int:session_id>/start", views.profile_start, name="start"),
]
