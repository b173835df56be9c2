from django.urls import path

from . import views

urlpatterns = [
    path("", views.statement, name="privacy"),
    path("versions/", views.versions, name="privacy_versions"),
    path("versions/<str:version>/", views.version_detail, name="privacy_version"),
    path("diff/<str:a>/<str:b>/", views.diff, name="privacy_diff"),
    path("processors/", views.processors, name="privacy_processors"),
    path("cookies/", views.cookies, name="privacy_cookies"),
    path("accept/", views.accept, name="privacy_accept"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="privacy_unsubscribe"),
]

#: Under /me/ (the namespace is assembled in portal/urls.py).
me_urlpatterns = [
    path("acceptances/", views.acceptances, name="acceptances"),
]
