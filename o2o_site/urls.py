from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from api.api import api

urlpatterns = [
    path("", include("storefront.catalog_urls")),
    path("stores/", include("storefront.store_urls")),
    path("in-store/", include("storefront.instore_urls")),
    path("", include("checkout.urls")),
    path("", include("returns.urls")),
    path("", include("campaigns.urls")),
    path("", include("backoffice.urls")),
    path("pickup/", include("pickup.urls")),
    path("payments/", include("payment.urls")),
    path("account/", include("storefront.account_urls")),
    path("rewards/", include("rewards.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("ops.urls")),
    path("api/v1/", api.urls),
]


def serve_media(request, path):
    # MEDIA_ROOT read at each request, not when the URLs load: tests give each run its own.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve_media)]

if settings.BENCH_BARE_VIEW:
    from .bench_views import bare

    urlpatterns += [path("bench/bare/", bare, name="bench_bare")]
