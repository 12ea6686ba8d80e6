from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from o2o_site.admin_money import AmountFieldsAdmin, money_display
from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin

from . import services
from .models import Delivery, DeliveryWindow, DeliveryZone


class DeliveryChangesAdminMixin:
    """Every save and delete of a zone or window stamps the delivery directory anew
    (delivery.services.delivery_changed), so checkouts see it at once."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.delivery_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.delivery_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.delivery_changed()


@admin.register(DeliveryZone)
class DeliveryZoneAdmin(AmountFieldsAdmin, DeliveryChangesAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    """A store's delivery zones: by postcodes and ranges or by distance, with fee and limits.

    Orders already placed keep the fee and window they were placed with, whatever is changed here."""

    amount_fields = ("fee", "free_above", "minimum_order")

    list_display = (
        "name",
        "store",
        "kind",
        money_display(DeliveryZone, "fee"),
        money_display(DeliveryZone, "free_above"),
        money_display(DeliveryZone, "minimum_order"),
        "lead_time_minutes",
        "is_active",
    )
    list_filter = ("is_active", "kind", ("store", ManagedStoreListFilter))
    list_select_related = ("store",)
    search_fields = ("name", "postcodes", "store__name")
    fieldsets = (
        (None, {"fields": ("store", "name", "is_active")}),
        (_("Where"), {"fields": ("kind", "postcodes", "radius_km")}),
        (_("Price and limits"), {"fields": ("fee", "free_above", "minimum_order", "lead_time_minutes", "days_ahead")}),
    )


@admin.register(DeliveryWindow)
class DeliveryWindowAdmin(DeliveryChangesAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    """When a store's van delivers: a window per weekday, its capacity and cut-off. None on the
    store's closed dates (its special opening hours)."""

    list_display = ("store", "weekday", "starts", "ends", "cutoff", "capacity")
    list_filter = ("weekday", ("store", ManagedStoreListFilter))
    list_select_related = ("store",)
    search_fields = ("store__name",)
    ordering = ("store__name", "weekday", "starts")


@admin.register(Delivery)
class DeliveryAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only record of deliveries: where to, which window, the fee charged and where it stands.
    Staff move deliveries on from the driver's page and the order's page, through the services."""

    list_display = (
        "order",
        "store",
        "window_start",
        "window_end",
        "postcode",
        "city",
        money_display(Delivery, "fee"),
        "state",
    )
    list_filter = ("state", ("store", ManagedStoreListFilter))
    list_select_related = ("fulfilment__order", "store")
    search_fields = ("fulfilment__order__number", "postcode", "street")
    date_hierarchy = "window_start"
    readonly_fields = [
        money_display(Delivery, "fee") if field.name == "fee" else field.name for field in Delivery._meta.fields
    ]

    @admin.display(description=_("order"), ordering="fulfilment__order__number")
    def order(self, delivery):
        return delivery.fulfilment.order

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
