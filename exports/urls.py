"""The export pages under /me/ (the namespace is assembled in portal/urls.py)."""

from django.urls import path

from . import views

me_urlpatterns = [
    path("export/", views.export_page, name="export"),
    path("export/<int:pk>/status/", views.export_status, name="export_status"),
    path("export/<int:pk>/download/", views.export_download, name="export_download"),
]
