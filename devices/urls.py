from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("", views.device_list, name="list"),
    path("<int:pk>/edit/", views.device_edit, name="edit"),
    path("<int:pk>/remove/", views.device_remove_confirm, name="remove"),
]
