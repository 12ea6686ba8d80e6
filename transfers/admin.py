"""Transfers in the admin: staff of each end see their stores' outgoing and incoming transfers
(scoped like every per-store admin: another store's transfers are simply not there), with the
order waiting for each, and move them on with actions that call transfers.services."""

from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.models import Order
from stores.admin_scoping import in_time_zone, managed_store_ids, managed_stores, shared_time_zone
from stores.models import Store
from stores.services import StockError

from . import services
from .models import Transfer, TransferEvent, TransferLine, TransferRoute


@admin.register(TransferRoute)
class TransferRouteAdmin(admin.ModelAdmin):
    """The shop's routes between locations (head office: the Store managers group has no rights
    here). Without a row, locations of one country are linked with TRANSFER_DEFAULT_LEAD_DAYS."""

    list_display = ("source", "destination", "lead_days", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("source", "destination")
    autocomplete_fields = ("source", "destination")
    search_fields = ("source__name", "destination__name")


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    fields = ("product", "quantity")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transfer", "product")


class TransferEventInline(admin.TabularInline):
    model = TransferEvent
    extra = 0
    fields = ("created_at", "from_status", "to_status", "at_store", "actor", "refused", "note")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transfer", "at_store", "actor")


class DirectionFilter(admin.SimpleListFilter):
    """Outgoing (from my stores) or incoming (to my stores)."""

    title = _("direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("out", _("Outgoing")), ("in", _("Incoming"))]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(source__in=managed_stores(request).values("pk"))
        if self.value() == "in":
            return queryset.filter(destination__in=managed_stores(request).values("pk"))
        return queryset


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "source", "destination", "expected_on", "waiting_order", "created_at")
    list_filter = (DirectionFilter, "status")
    list_select_related = ("source", "destination", "fulfilment__order")
    search_fields = ("number", "fulfilment__order__number")
    ordering = ("status", "expected_on", "pk")
    fields = (
        "number",
        "status",
        "source",
        "destination",
        "waiting_order",
        "expected_on",
        "created_at",
        "sent_at",
        "received_at",
    )
    readonly_fields = fields
    inlines = (TransferLineInline, TransferEventInline)
    actions = ("mark_picked", "send", "receive", "cancel")

    # Scope: the transfers out of or into the user's stores (a superuser: all).

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        mine = managed_stores(request).values("pk")
        return queryset.filter(Q(source__in=mine) | Q(destination__in=mine))

    def _is_in_scope(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        return bool({obj.source_id, obj.destination_id} & managed_store_ids(request))

    def has_add_permission(self, request):
        return False  # a transfer is made with the order waiting for it (checkout)

    def has_delete_permission(self, request, obj=None):
        return False  # its record stays; a transfer not sent yet is cancelled instead

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._is_in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._is_in_scope(request, obj)

    def changelist_view(self, request, extra_context=None):
        return in_time_zone(
            shared_time_zone(request), lambda: super(TransferAdmin, self).changelist_view(request, extra_context)
        )

    def get_list_display(self, request):
        # The waiting order links to its page for those who may open it: the destination's staff.
        def waiting_order(transfer):
            return self.waiting_order(transfer, linked=self._manages(request, transfer.destination_id))

        waiting_order.short_description = _("for order")
        waiting_order.admin_order_field = "fulfilment__order__number"
        return [waiting_order if name == "waiting_order" else name for name in super().get_list_display(request)]

    @staticmethod
    def _manages(request, store_id) -> bool:
        return request.user.is_superuser or store_id in managed_store_ids(request)

    @admin.display(description=_("for order"))
    def waiting_order(self, transfer, linked=True):
        if transfer.fulfilment_id is None:
            return "—"
        order = transfer.fulfilment.order
        if not linked:
            return format_html("{} · {}", order.number, order.get_status_display())
        url = reverse(f"admin:{Order._meta.app_label}_{Order._meta.model_name}_change", args=[order.pk])
        return format_html('<a href="{}">{}</a> · {}', url, order.number, order.get_status_display())

    # Actions: each transfer through its own service call, at the user's end of it.

    def _acting_store(self, request, transfer, end: str) -> Store:
        """Where the user acts: the transfer's `end` when they manage it (a superuser always),
        else their end of it (a receipt there is refused as at the wrong store, and recorded)."""
        wanted = getattr(transfer, end)
        if request.user.is_superuser or wanted.pk in managed_store_ids(request):
            return wanted
        return transfer.destination if end == "source" else transfer.source

    def _each(self, request, queryset, move, end: str, done_message):
        done = 0
        for transfer in queryset.select_related("source", "destination").order_by("pk"):
            try:
                move(transfer=transfer, at_store=self._acting_store(request, transfer, end), by=request.user)
            except (services.TransferError, StockError) as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=_("Mark picked (put aside at the source)"), permissions=["change"])
    def mark_picked(self, request, queryset):
        self._each(
            request,
            queryset,
            services.mark_picked,
            "source",
            lambda n: ngettext("%(count)d transfer picked.", "%(count)d transfers picked.", n) % {"count": n},
        )

    @admin.action(description=_("Send (on its way to the destination)"), permissions=["change"])
    def send(self, request, queryset):
        self._each(
            request,
            queryset,
            services.send_transfer,
            "source",
            lambda n: ngettext("%(count)d transfer sent.", "%(count)d transfers sent.", n) % {"count": n},
        )

    @admin.action(description=_("Receive (arrived here)"), permissions=["change"])
    def receive(self, request, queryset):
        self._each(
            request,
            queryset,
            services.receive_transfer,
            "destination",
            lambda n: (
                ngettext(
                    "%(count)d transfer received; its order is ready for pickup and the shopper gets an e-mail.",
                    "%(count)d transfers received; their orders are ready for pickup and the shoppers get an e-mail.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Cancel (not sent yet; back on sale at the source)"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(
            request,
            queryset,
            services.cancel_transfer,
            "source",
            lambda n: ngettext("%(count)d transfer cancelled.", "%(count)d transfers cancelled.", n) % {"count": n},
        )
