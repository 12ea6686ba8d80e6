"""Old addresses of the curbside queue, which is now an admin page (backoffice.curbside_queue):
bookmarks and queue tabs left open follow it. The queue's own poll follows the redirect, sees
it was redirected and reloads the page, so an open tab moves itself to the new address."""

from django.http import HttpResponseRedirect
from django.urls import reverse


def _moved(request, name, *, preserve_request=False, **kwargs):
    url = reverse(f"admin:orders_order_{name}", kwargs=kwargs)
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    # A hand-over posted from an old tab is sent on as the same POST (307), token and all.
    return HttpResponseRedirect(url, preserve_request=preserve_request)


def old_curbside_queue(request):
    return _moved(request, "curbside_queue")


def old_curbside_queue_rows(request):
    return _moved(request, "curbside_queue_rows")


def old_curb_hand_over(request, number):
    return _moved(request, "curbside_hand_over", preserve_request=True, number=number)
