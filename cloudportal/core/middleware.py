from django.utils.cache import add_never_cache_headers


class PrivatePagesNoStoreMiddleware:
    """A page rendered for a signed-in person can hold their personal data: no
    browser or proxy cache may keep it (back-button after sign-out, shared PCs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
