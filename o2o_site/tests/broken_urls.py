"""A URLconf with a view that fails, for test_error_pages_with_debug.py."""

from django.urls import include, path


def broken(request):
    raise RuntimeError("the till is on fire")


urlpatterns = [
    path("broken/", broken),
    path("", include("o2o_site.urls")),
]
