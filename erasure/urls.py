"""The account deletion pages under /me/ (the namespace is assembled in portal/urls.py)."""

from django.urls import path

from . import views

me_urlpatterns = [
    path("delete/", views.delete_page, name="delete"),
    path("delete/requested/", views.delete_requested, name="delete_requested"),
    path("delete/cancel/<str:token>/", views.delete_cancel, name="delete_cancel"),
]
