"""Keeping store managers to their own stores in the admin.

A manager is staff linked to stores through Store.managers; the "Store managers" group says what
they may do, this module says where. Every admin showing per-store rows mixes in
StoreScopedAdminMixin and names the path from its model to the store (`store_path`). Lists,
searches, filters, autocompletes, change pages, actions and custom views all start from
get_queryset, so another store's row is simply not there: its change page redirects with
"doesn't exist", an action posted with its id changes nothing. A superuser sees every store.

Times on these pages are the store's own: a change page is shown (and read back) in its store's
time zone, a list in the zone of the user's stores when they share one (a manager of one store,
or of stores in one country); a list spanning zones keeps the shop's zone, and its columns that
matter per row say the row's store time themselves (the orders list does).
"""

import zoneinfo
from functools import partial

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import Store


def managed_stores(request):
    """The stores the signed-in member of staff may see and act on (a queryset, not evaluated)."""
    return Store.objects.managed_by(request.user)


def managed_store_ids(request) -> set[int]:
    """Ids of the stores the user manages, loaded once per request (for checks on single rows)."""
    if not hasattr(request, "_managed_store_ids"):
        request._managed_store_ids = set(managed_stores(request).values_list("pk", flat=True))
    return request._managed_store_ids


def managed_store_list(request) -> list[Store]:
    """The stores the user manages (by city and name), loaded once per request: the store filter
    and the page's time zone share the one query."""
    if not hasattr(request, "_managed_store_list"):
        request._managed_store_list = list(managed_stores(request).order_by("city", "name"))
    return request._managed_store_list


def shared_time_zone(request) -> zoneinfo.ZoneInfo | None:
    """The time zone of every store the user manages, if they share one; None if they do not."""
    zones = {store.time_zone for store in managed_store_list(request)}
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else None


def in_time_zone(zone, respond):
    """`respond()`'s response, worked out and rendered with `zone` active (a TemplateResponse is
    otherwise rendered later, after the zone is gone). With no zone, the shop's own."""
    if zone is None:
        return respond()
    with timezone.override(zone):
        response = respond()
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
    return response


def scope_queryset_to_stores(queryset, request, store_path):
    if request.user.is_superuser:
        return queryset
    # A subquery, not a join: one query whatever the number of rows, and no duplicate rows.
    return queryset.filter(**{f"{store_path}__in": managed_stores(request).values("pk")})


class ManagedStoreListFilter(admin.RelatedFieldListFilter):
    """The store filter in the sidebar, listing only the stores the user manages."""

    def field_choices(self, field, request, model_admin):
        return [(store.pk, str(store)) for store in managed_store_list(request)]


class StoreScopedAdminMixin:
    """Limits a ModelAdmin (or inline) to the rows of the stores the user manages.

    `store_path` is the lookup from the model to its Store, e.g. "store" or "order__store".
    """

    store_path = "store"

    def get_queryset(self, request):
        return scope_queryset_to_stores(super().get_queryset(request), request, self.store_path)

    def store_id_of(self, obj):
        """The id of the store `obj` belongs to, following store_path."""
        *hops, last = self.store_path.split("__")
        for hop in hops:
            obj = getattr(obj, hop)
        return getattr(obj, f"{last}_id")

    def is_in_scope(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return self.store_id_of(obj) in managed_store_ids(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.is_in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.is_in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.is_in_scope(request, obj)

    def changelist_view(self, request, extra_context=None):
        return in_time_zone(shared_time_zone(request), partial(super().changelist_view, request, extra_context))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        zone = self.time_zone_of(request, object_id)
        return in_time_zone(zone, partial(super().change_view, request, object_id, form_url, extra_context))

    def time_zone_of(self, request, object_id) -> zoneinfo.ZoneInfo | None:
        """The time zone of the store of the row `object_id` (one query), if the user may see it."""
        field = "time_zone" if self.store_path == "pk" else f"{self.store_path}__time_zone"
        try:
            name = self.get_queryset(request).filter(pk=unquote(object_id)).values_list(field, flat=True).first()
        except (ValueError, ValidationError):
            return None
        return zoneinfo.ZoneInfo(name) if name else None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scoped = _scoped_choices(db_field.related_model, request)
        if scoped is not None:
            kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        scoped = _scoped_choices(db_field.related_model, request)
        if scoped is not None:
            kwargs["queryset"] = scoped
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _scoped_choices(model, request):
    """Choices for a relation to a per-store model, limited to the user's stores (None: any)."""
    if model is Store:
        return managed_stores(request)
    # Higher apps' per-store models (orders, …) say how to scope themselves: their queryset has
    # for_stores_managed_by(user). Asked of the model, so this module never imports those apps.
    scope = getattr(model._default_manager, "for_stores_managed_by", None)
    if scope is not None:
        return scope(request.user)
    return None
