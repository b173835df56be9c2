from django.urls import path

from erasure import views as erasure_views
from exports import views as export_views
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
    path("export/", export_views.export_page, name="export"),
    path("export/<int:pk>/status/", export_views.export_status, name="export_status"),
    path("export/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("delete/", erasure_views.delete_page, name="delete"),
    path("delete/requested/", erasure_views.delete_requested, name="delete_requested"),
    path("delete/cancel/<str:token>/", erasure_views.delete_cancel, name="delete_cancel"),
    path("suspended/", views.suspended, name="suspended"),
    path("acceptances/", policies_views.acceptances, name="acceptances"),
]
