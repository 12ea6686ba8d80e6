"""A database that is busy (deadlock, serialization failure, lock timeout) gets a polite 503.

Services run each change in one transaction, so by the time the error reaches here it was
rolled back and nothing is half-written; orders.services already retried where that was safe.
The shopper is asked to try again, with their cart untouched.
"""

import logging

from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from .database_errors import is_busy

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        logger.warning("busy database on %s %s: %s", request.method, request.path, exception)
        response = render(request, "try_again.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response
