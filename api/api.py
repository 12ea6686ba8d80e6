"""The JSON API for other channels (kiosks, apps, partners): /api/v1/, its OpenAPI 3 schema at
/api/v1/openapi.json and browsable docs (Swagger UI, served from the static files django-ninja
ships: no CDN) at /api/v1/docs. README, "JSON API", has an example per operation.

Every error is {"detail": "…", "errors": […]} in the request's language (Accept-Language).
"""

from functools import cache

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.throttling import AnonRateThrottle

from .endpoints import router
from .security import ApiKeyAuth, KeyRateThrottle
from .validation import FieldErrors, field_of, message_of

api = NinjaAPI(
    title="Norðurbúð API",
    version="1",
    description=(
        "Products with availability per store, nearest stores, delivery options, order status, "
        "and a kiosk's cart and checkout. Send your channel's key in the X-API-Key header."
    ),
    auth=ApiKeyAuth(),
    throttle=KeyRateThrottle(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", router)

# The index answers without a key (it says where everything is and that a key is needed), so it
# is limited per client address instead of per key.
INDEX_RATE = "60/m"


@cache
def _operations() -> tuple[dict, ...]:
    """Every operation of the published schema: {"method", "path", "summary"}, in schema order;
    the paths are the schema's, which are absolute ("/api/v1/products")."""
    schema = api.get_openapi_schema()
    return tuple(
        {"method": method.upper(), "path": path, "summary": operation.get("summary", "")}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    )


@api.get("/", auth=None, throttle=AnonRateThrottle(INDEX_RATE), include_in_schema=False)
def index(request: HttpRequest):
    """What /api/v1/ offers, as a client's first request finds it: {"name", "version",
    "description", "authentication", "openapi", "docs", "operations": [{"method", "path",
    "summary"}]}. Public, like the schema it points to; every operation listed needs a key."""
    return {
        "name": api.title,
        "version": api.version,
        "description": api.description,
        "authentication": _("Send your channel's API key in the X-API-Key header."),
        "openapi": request.build_absolute_uri("/api/v1/openapi.json"),
        "docs": request.build_absolute_uri("/api/v1/docs"),
        "operations": list(_operations()),
    }


def _error(request, status, detail, errors=()):
    return api.create_response(request, {"detail": str(detail), "errors": list(errors)}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    return _error(request, 401, _("Send a valid API key in the X-API-Key header."))


@api.exception_handler(Throttled)
def _throttled(request, exc):
    # django-ninja sets Retry-After on this answer from KeyRateThrottle.wait().
    return _error(request, 429, _("This key made too many requests this minute. Try again shortly."))


@api.exception_handler(ValidationError)
def _not_valid(request, exc):
    errors = [{"field": field_of(error.get("loc", ())), "message": message_of(error)} for error in exc.errors]
    return _error(request, 422, _("The request is not valid: see errors."), errors)


@api.exception_handler(FieldErrors)
def _fields_not_valid(request, exc):
    return _error(request, 422, _("The request is not valid: see errors."), exc.errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400:  # django-ninja's only 400: a body that does not parse
        return _error(request, 400, _("The request body is not valid JSON."))
    return _error(request, exc.status_code, exc.message)
