"""Keeping store managers to their own stores in the admin.

A manager is staff linked to stores through Store.managers; the "Store managers" group says what
they may do, this module says where. Every admin showing per-store rows mixes in
StoreScopedAdminMixin and names the path from its model to the store (`store_path`). Lists,
searches, filters, autocompletes, change pages, actions and custom views all start from
get_queryset, so another store's row is simply not there: its change page redirects with
"doesn't exist", an action posted with its id changes nothing. A superuser sees every store.
"""

from django.contrib import admin

from .models import Store


def managed_stores(request):
    """The stores the signed-in member of staff may see and act on (a queryset, not evaluated)."""
    return Store.objects.managed_by(request.user)


def managed_store_ids(request) -> set[int]:
    """Ids of the stores the user manages, loaded once per request (for checks on single rows)."""
    if not hasattr(request, "_managed_store_ids"):
        request._managed_store_ids = set(managed_stores(request).values_list("pk", flat=True))
    return request._managed_store_ids


def scope_queryset_to_stores(queryset, request, store_path):
    if request.user.is_superuser:
        return queryset
    # A subquery, not a join: one query whatever the number of rows, and no duplicate rows.
    return queryset.filter(**{f"{store_path}__in": managed_stores(request).values("pk")})


class ManagedStoreListFilter(admin.RelatedFieldListFilter):
    """The store filter in the sidebar, listing only the stores the user manages."""

    def field_choices(self, field, request, model_admin):
        return [(store.pk, str(store)) for store in managed_stores(request).order_by("city", "name")]


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
