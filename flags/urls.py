from django.urls import path

from flags import views

app_name = "flags"
urlpatterns = [
    path("", views.flag_list, name="list"),
    path("new", views.flag_new, name="new"),
    path("sessions/<int:session_id>/overrides", views.override_new, name="override_new"),
    path("sessions/<int:session_id>/evaluate", views.session_evaluate, name="evaluate"),
    path("overrides/<int:override_id>/revert", views.override_revert, name="override_revert"),
    path("overrides/<int:override_id>/extend", views.override_extend, name="override_extend"),
    path("sessions/<int:session_id>/log-levels", views.loglevel_new, name="loglevel_new"),
    path(
        "log-levels/<int:override_id>/<str:verb>",
        views.loglevel_change,
        name="loglevel_change",
    ),
    path("<str:key>/", views.flag_detail, name="detail"),
    path("<str:key>/rules", views.rule_add, name="rule_add"),
    path("<str:key>/toggle", views.flag_toggle, name="toggle"),
]
