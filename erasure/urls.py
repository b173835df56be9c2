"""The account deletion pages under /me/ (the namespace is assembled in portal/urls.py)."""

from django.urls import path

from . import views

me_urlpatterns = [
    path("delete/", views.delete_page, name="delete"),
    path("delete/requested/", views.delete_requested, name="delete_requested"),
    path("delete/cancel/<str:token>/", views.delete_cancel, name="delete_cancel"),
]


#: Under /accounts/, before allauth's own: its "inactive" page, for an account waiting
#: for its erasure.
account_urlpatterns = [
    path("inactive/", views.account_inactive, name="account_inactive"),
]
