"""The portal's URLs: each app's own, and the /me/ namespace assembled from the
customer pages that accounts, exports, erasure and policies each declare."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import urls as accounts_urls
from accounts import views as accounts_views
from erasure import urls as erasure_urls
from exports import urls as exports_urls
from policies import urls as policies_urls

from . import views

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("CloudPortal staff")
admin.site.site_title = _("CloudPortal staff")

me_urlpatterns = [
    *accounts_urls.me_urlpatterns,
    *exports_urls.me_urlpatterns,
    *erasure_urls.me_urlpatterns,
    *policies_urls.me_urlpatterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include(erasure_urls.account_urlpatterns)),
    path("accounts/", include(accounts_urls.account_urlpatterns)),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", accounts_views.language_set, name="set_language"),
    path("", include("compliance.urls")),
    path("privacy/", include(policies_urls.urlpatterns)),
    path("me/", include((me_urlpatterns, "me"))),
    path("devices/", include("devices.urls")),
    path("logs/", include("accesslogs.urls")),
    path("api/", include("accesslogs.api_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"
