from django.urls import path

from . import views

app_name = "logs"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("export.csv", views.session_csv, name="csv"),
]
