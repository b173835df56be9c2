from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as accounts_views
from cloudportal.core import views as core_views
from compliance import views as compliance_views

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("CloudPortal staff")
admin.site.site_title = _("CloudPortal staff")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", accounts_views.language_set, name="set_language"),
    path("privacy/transparency/", compliance_views.transparency, name="transparency"),
    path("privacy/", include("policies.urls")),
    path("me/disclosures/", compliance_views.disclosures, name="disclosures"),
    path("me/", include("accounts.urls")),
    path("devices/", include("devices.urls")),
    path("logs/", include("accesslogs.urls")),
    path("api/", include("accesslogs.api_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "cloudportal.core.views.error_403"
handler404 = "cloudportal.core.views.error_404"
handler500 = "cloudportal.core.views.error_500"
