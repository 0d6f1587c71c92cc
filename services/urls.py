from django.urls import path

from services import views

app_name = "services"
urlpatterns = [
    path("", views.service_list, name="list"),
    path("new", views.service_new, name="new"),
    path("<slug:slug>/", views.service_detail, name="detail"),
    path("<slug:slug>/edit", views.service_edit, name="edit"),
    path("<slug:slug>/checks", views.check_add, name="check_add"),
    path("<slug:slug>/checks/<int:check_id>/delete", views.check_delete, name="check_delete"),
]
