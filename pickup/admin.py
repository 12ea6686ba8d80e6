from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationStackedInline

from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin

from . import notifications
from .models import CurbsideVisit, Notification, PickupCodeAttempt, PickupSettings


@admin.register(Notification)
class NotificationAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only: what was sent to whom and when, for the stores the user manages.

    Rows are written by pickup.notifications (and the Celery task), never by hand. A failed or
    unconfirmed e-mail can be resent (or, unconfirmed, marked sent) by the store's managers.
    """

    store_path = "order__store"
    list_display = ("order", "kind", "status", "recipient", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("status", "kind", ("order__store", ManagedStoreListFilter))
    search_fields = ("order__number", "recipient")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    fields = (
        "order",
        "kind",
        "status",
        "recipient",
        "attempts",
        "created_at",
        "dispatched_at",
        "claimed_at",
        "send_started_at",
        "sent_at",
        "last_error",
    )
    readonly_fields = fields
    actions = ("resend", "confirm_sent")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    def has_resend_permission(self, request):
        # Whoever may act on the store's orders may resend their e-mails (rows are scoped above).
        return request.user.has_perm("orders.change_order")

    @admin.action(description=_("Resend (failed or unconfirmed e-mails)"), permissions=["resend"])
    def resend(self, request, queryset):
        count = notifications.resend_notifications(notifications=list(queryset), by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail queued again.",
                "%(count)d e-mails queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(description=_("Mark unconfirmed e-mails as sent (the shopper got it)"), permissions=["resend"])
    def confirm_sent(self, request, queryset):
        count = notifications.confirm_notifications_sent(notifications=list(queryset), by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d e-mail marked sent.", "%(count)d e-mails marked sent.", count) % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
