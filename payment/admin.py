"""Payments in the admin: a read-only record, each with its history of events.

Nothing here changes a payment: capture, release and refund are services (payment/services.py)
and reach the admin with the hand-over and refund screens. Managers see their own stores'
payments only (StoreScopedAdminMixin, through the order's store).
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from o2o_site.money import format_money
from stores.admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin

from .models import Payment, PaymentEvent, Receipt
from .receipts import receipt_link


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    # Shown only on a payment's page, which is already scoped to the manager's stores.
    model = PaymentEvent
    fields = ("created_at", "kind", "from_status", "to_status", "amount_shown", "source", "actor", "note")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "payment")

    @admin.display(description=_("amount"))
    def amount_shown(self, event):
        return format_money(event.amount, event.currency)


class ReceiptInline(ReadOnlyAdminMixin, admin.TabularInline):
    # The receipts issued for the payment's captures (payment.receipts), with the shopper's page.
    model = Receipt
    fields = ("number_link", "issued_at", "total_shown", "vat_shown", "seller_name", "seller_registration")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description=_("receipt number"))
    def number_link(self, receipt):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', receipt_link(receipt), receipt.number)

    @admin.display(description=_("total"))
    def total_shown(self, receipt):
        return format_money(receipt.total, receipt.currency)

    @admin.display(description=_("VAT"))
    def vat_shown(self, receipt):
        return format_money(receipt.vat_amount, receipt.currency)


@admin.register(Payment)
class PaymentAdmin(StoreScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    store_path = "order__store"
    list_display = ("order", "variant", "status", "total_shown", "captured_shown", "refunded_shown", "created")
    list_filter = ("status", "variant", ("order__store", ManagedStoreListFilter))
    list_select_related = ("order",)
    search_fields = ("order__number", "transaction_id")
    date_hierarchy = "created"
    fields = (
        "order",
        "variant",
        "status",
        "total_shown",
        "captured_shown",
        "released_shown",
        "refunded_shown",
        "transaction_id",
        "created",
        "modified",
    )
    readonly_fields = fields
    inlines = [PaymentEventInline, ReceiptInline]

    @admin.display(description=_("amount"), ordering="total")
    def total_shown(self, payment):
        return format_money(payment.total, payment.currency)

    @admin.display(description=_("captured"))
    def captured_shown(self, payment):
        return format_money(payment.captured_amount, payment.currency)

    @admin.display(description=_("released"))
    def released_shown(self, payment):
        return format_money(payment.released_amount, payment.currency)

    @admin.display(description=_("refunded"))
    def refunded_shown(self, payment):
        return format_money(payment.refunded_amount, payment.currency)
