from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import drop_ended_context


class InStoreContextMiddleware:
    """Ends an in-store context whose time is up (or whose store is no longer the session's)
    before any view runs, so no page shows its banner or is cached under it. Reads the session
    only (no query); after SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if hasattr(request, "session"):
            drop_ended_context(request)
        return self.get_response(request)
