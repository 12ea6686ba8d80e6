"""The shop's own error pages with DEBUG on (`make run`), unless a developer asks for Django's.

With DEBUG off Django shows templates/404.html, 400.html and 500.html itself. With DEBUG on it
shows its debug pages instead: the URL patterns for a page that does not exist, the traceback
and settings for an error. `make run` runs with DEBUG on (the development key, a cache in
memory, the Dummy payment provider), yet a shopper trying the demo should meet the shop's pages.
So with DEBUG on and DEBUG_PAGES off (the default) this middleware answers as production does;
DEBUG_PAGES=true brings Django's debug pages back. With DEBUG off it is not used at all.

It sits after CommonMiddleware, so a missing trailing slash is still redirected (APPEND_SLASH
turns a 404 response into the redirect), and before BusyDatabaseMiddleware, whose "try again"
page answers a busy database first.
"""

import logging

from django.conf import settings
from django.core import signals
from django.core.exceptions import MiddlewareNotUsed, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import Resolver404, get_resolver
from django.views import defaults

logger = logging.getLogger("django.request")


class ShopErrorPagesMiddleware:
    def __init__(self, get_response):
        if not settings.DEBUG or settings.DEBUG_PAGES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        # A path no URL pattern matches never reaches a view (nor process_exception).
        try:
            get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404 as missing:
            return defaults.page_not_found(request, missing)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # the shop's 403 page already, DEBUG or not
        if isinstance(exception, SuspiciousOperation):
            logger.warning("Bad request: %s: %s", request.path, exception)
            return defaults.bad_request(request, exception)
        # As Django does for an uncaught exception: the error is logged (with the traceback, in
        # the `make run` terminal) and announced, then the shopper sees the shop's own page.
        signals.got_request_exception.send(sender=None, request=request)
        logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"request": request})
        return defaults.server_error(request)
