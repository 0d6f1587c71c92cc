from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from flags import ofrep
from prodbug_site.api import api
from prodbug_site.healthz import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sessions:list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/", include("sessions.urls")),
    path("services/", include("services.urls")),
    path("healthz", healthz, name="healthz"),
    path("ofrep/v1/evaluate/flags", ofrep.evaluate_flags, name="ofrep_bulk"),
    path("ofrep/v1/evaluate/flags/<str:key>", ofrep.evaluate_flag, name="ofrep_flag"),
    path("flags/", include("flags.urls")),
    path("profiles/", include("profiling.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
