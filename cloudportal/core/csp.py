"""django-csp's middleware with the policy built once per process.

The Content-Security-Policy of a response comes from the settings alone unless a view
changes it (django-csp's decorators) or a template asks for a nonce; the portal does
neither, and building the header again costs every page a twentieth of a
millisecond. So the two headers are built once, and built again after a setting
changes (tests); a response that does carry its own policy is left to django-csp.
"""

from __future__ import annotations

from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

#: What a decorator sets on a response to change its policy.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)

#: Each header, whether it is the report-only one, and what exempts a response from it.
_HEADERS = ((HEADER, False, "_csp_exempt"), (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"))


@cache
def _policy(report_only: bool) -> tuple[str, tuple[str, ...]]:
    """The header's value from the settings, and the path prefixes it is not sent on."""
    name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
    prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
    return build_policy(report_only=report_only), tuple(prefixes)


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policy.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="core.csp.settings_changed")


class KeptPolicyCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if settings.DEBUG and response.status_code in (404, 500):  # Django's debug pages
            return response
        own = getattr(request, "_csp_nonce", None) is not None
        if own or any(getattr(response, name, None) is not None for name in _OWN_POLICY):
            return super().process_response(request, response)
        for header, report_only, exempt in _HEADERS:
            policy, excluded = _policy(report_only)
            wanted = policy and header not in response and not getattr(response, exempt, False)
            if wanted and not request.path_info.startswith(excluded):
                response[header] = policy
        # As django-csp does: a nonce asked for once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
