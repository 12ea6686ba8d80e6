from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline

from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin

from .models import CurbsideVisit, PickupCodeAttempt, PickupSettings


@admin.register(PickupCodeAttempt)
class PickupCodeAttemptAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only log of every pickup code typed at a hand-over, for the stores the user manages."""

    store_path = "order__store"
    list_display = ("at", "order", "user", "succeeded", "refused_as_locked", "ip_address", "cleared_at")
    list_filter = ("succeeded", "refused_as_locked", ("order__store", ManagedStoreListFilter), "at")
    search_fields = ("order__number", "user__username", "ip_address")
    list_select_related = ("order", "user", "cleared_by")
    date_hierarchy = "at"
    fields = ("order", "user", "succeeded", "refused_as_locked", "at", "ip_address", "cleared_at", "cleared_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PickupSettingsInline(TranslationStackedInline):
    """On the store's admin page: curbside, pickup slots, reminders and expiry (pickup.PickupSettings).

    The curbside instructions have a field per shop language (pickup/translation.py)."""

    model = PickupSettings
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name_plural = _("pickup settings")
    fieldsets = (
        (_("Curbside pickup"), {"fields": ("offers_curbside", "curbside_instructions", "curbside_bays")}),
        (_("Pickup time slots"), {"fields": ("slot_minutes", "orders_per_slot", "lead_time_minutes", "days_ahead")}),
        (_("Uncollected orders"), {"fields": ("remind_after_hours", "expire_after_days")}),
    )


@admin.register(CurbsideVisit)
class CurbsideVisitAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only record of curbside visits: arrival, bay, hand-over and how long shoppers waited."""

    store_path = "fulfilment__stock_location"
    list_display = (
        "order",
        "state",
        "arrived_at",
        "bay",
        "vehicle",
        "handed_over_at",
        "handed_over_by",
        "wait_seconds",
    )
    list_filter = ("state", ("fulfilment__stock_location", ManagedStoreListFilter))
    search_fields = ("fulfilment__order__number", "vehicle")
    list_select_related = ("fulfilment__order", "handed_over_by")
    date_hierarchy = "arrived_at"
    readonly_fields = [field.name for field in CurbsideVisit._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("fulfilment__order")

    @admin.display(description=_("order"), ordering="fulfilment__order__number")
    def order(self, visit):
        return visit.fulfilment.order

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
