"""The orders app's own admin screen: the notification outbox, what was e-mailed to shoppers.

Orders themselves are in backoffice/admin.py, beside their pickup actions.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin

from .models import Notification
from .notifications import decisions


@admin.register(Notification)
class NotificationAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Read-only: what was sent to whom and when, for the stores the user manages.

    Rows are written by orders.notifications (and the Celery task), never by hand. A failed or
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
        count = decisions.resend_notifications(notifications=list(queryset), by=request.user)
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
        count = decisions.confirm_notifications_sent(notifications=list(queryset), by=request.user)
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
