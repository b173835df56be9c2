from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("ingest/sessions", api.ingest_sessions, name="ingest_sessions"),
]
