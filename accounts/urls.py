"""The customer's own pages under /me/ (the namespace is assembled in portal/urls.py),
and the sign-in sessions page that replaces allauth's under /accounts/."""

from django.urls import path

from . import views

me_urlpatterns = [
    path("", views.profile, name="profile"),
    path("edit/", views.profile_edit, name="profile_edit"),
    path("preferences/", views.preferences, name="preferences"),
    path("data/", views.data_held, name="data"),
    path("activity/", views.activity, name="activity"),
    path("requests/", views.data_requests, name="requests"),
    path("suspended/", views.suspended, name="suspended"),
]

#: Under /accounts/, before allauth's URLs: the same path and name as allauth's list.
account_urlpatterns = [
    path("sessions/", views.signin_sessions, name="usersessions_list"),
    path("sessions/<int:pk>/end/", views.signin_session_end, name="usersession_end"),
]
