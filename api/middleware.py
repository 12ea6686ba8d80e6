"""The JSON API refuses the NUL character before any view reads it.

PostgreSQL's text cannot hold NUL (0x00): a query, path or body value with one reached the
database and failed there, a 500 ("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
where the web pages' forms refuse it as Django's ProhibitNullCharactersValidator does. Here every
request to the API is looked at once: a NUL in its path is a 404 (no product, store or order has
one in its key), in a query parameter or a JSON body's string a 422 naming each field as the
client sent it ("q", "lines.0.sku"), in the API's error shape (api.api._error).
"""

from django.utils.translation import gettext as _

API_PREFIX = "/api/"
NUL = "\x00"


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            refused = _refused(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _refused(request):
    from .api import _error  # the API's own error answer; imported on the first refusal only

    if NUL in request.path_info:
        return _error(request, 404, _("Not found."))
    fields = [name for name, values in request.GET.lists() if NUL in name or any(NUL in value for value in values)]
    if not fields:
        return None
    message = _("Null characters are not allowed.")
    return _error(
        request,
        422,
        _("The request is not valid: see errors."),
        [{"field": field, "message": message} for field in fields],
    )
