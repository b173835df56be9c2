from django.urls import path

from policies import views as policies_views

from . import views

app_name = "me"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("edit/", views.profile_edit, name="profile_edit"),
    path("preferences/", views.preferences, name="preferences"),
    path("data/", views.data_held, name="data"),
    path("activity/", views.activity, name="activity"),
    path("requests/", views.data_requests, name="requests"),
    path("acceptances/", policies_views.acceptances, name="acceptances"),
]
