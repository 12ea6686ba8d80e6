"""Shopper-facing store pages: the list (with nearest stores), a store's page, choosing "my store"."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from o2o_site.cache.pages import SharedPage, shared_page
from o2o_site.replica import reads_from_replica
from pickup.models import PickupSettings
from stores.models import Country
from stores.opening import opening_status, specials_by_date
from stores.selectors import (
    my_store,
    store_directory,
    store_listings,
    store_with_hours,
    weekly_hours,
)
from stores.services import choose_my_store

from .shopper_input import shopper_input
from .store_forms import ChooseStoreForm, NearestStoresForm

NEAREST_STORES_SHOWN = 10
# The store page lists the coming special dates (holidays, stock-taking), this many at most.
SPECIAL_DATES_SHOWN = 10


@reads_from_replica
@shopper_input
@shared_page
def store_list(request):
    # Any of the fields present, even empty, means the shopper submitted the form.
    wants_nearest = any(name in request.GET for name in NearestStoresForm.FIELDS)
    directory = store_directory()
    form = NearestStoresForm(request.GET if wants_nearest else None, directory=directory)
    location_label = only_in = None
    if form.is_bound and form.is_valid():
        latitude, longitude = form.location
        location_label = form.location_label
        country = None if form.cleaned_data["everywhere"] else form.country
        listings = store_listings(
            latitude=latitude, longitude=longitude, limit=NEAREST_STORES_SHOWN, country=country, directory=directory
        )
        if country is not None:
            only_in = Country(country).label if country in Country.values else country
    else:
        listings = store_listings(directory=directory)
    context = {"form": form, "listings": listings, "location_label": location_label, "only_in": only_in}
    if only_in is not None:
        everywhere = request.GET.copy()
        everywhere["everywhere"] = "on"
        context["everywhere_query"] = everywhere.urlencode()
    if form.errors:
        return render(request, "stores/store_list.html", context)
    # The stores are found afresh for every request; the page showing them is rendered once
    # for everyone who gets the same stores, distances and "open now" (o2o_site/cache/pages.py).
    shown = tuple((row.store.pk, row.is_open, row.distance_km) for row in listings)
    store = my_store(request)
    return SharedPage(
        stamps=("stores:list", directory.stamp, shown),
        store=store,
        build=lambda extra_context: render(request, "stores/store_list.html", {**context, **extra_context}),
    )


@reads_from_replica
def store_detail(request, slug):
    now = timezone.now()
    store = store_with_hours(slug, now=now)
    if store is None:
        raise Http404(_("There is no such store."))
    today = store.local_now(now).date()
    specials = specials_by_date(store.upcoming_special_hours)
    status = opening_status(store, now=now, weekly=store.opening_hours.all(), specials=specials)
    pickup = PickupSettings.for_store(store)
    return render(
        request,
        "stores/store_detail.html",
        {
            "store": store,
            "status": status,
            "is_open": status.is_open,
            "local_now": store.local_now(now),
            "week": weekly_hours(store, now),
            "special_dates": [special for special in store.upcoming_special_hours if special.date >= today][
                :SPECIAL_DATES_SHOWN
            ],
            "curbside": pickup if store.offers_pickup and pickup.offers_curbside else None,
            # The map is an extra: without tiles (MAP_TILES_URL empty) or JavaScript the page
            # shows the address and the directions link alone.
            "map_tiles_url": settings.MAP_TILES_URL,
            "map_attribution": settings.MAP_ATTRIBUTION,
        },
    )


@require_POST
def choose_store(request):
    form = ChooseStoreForm(request.POST)
    if not form.is_valid():
        return render(request, "stores/choose_store_invalid.html", {"form": form}, status=400)
    store = form.cleaned_data["store_id"]
    choose_my_store(request=request, store=store)
    messages.success(request, _("%(store)s is now your store.") % {"store": store.name})
    return redirect(_safe_next(request, form.cleaned_data["next"], default=store.get_absolute_url()))


def _safe_next(request, target, *, default):
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
