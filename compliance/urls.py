from django.urls import path

from . import views

urlpatterns = [
    path("privacy/transparency/", views.transparency, name="transparency"),
    path("me/disclosures/", views.disclosures, name="disclosures"),
]
