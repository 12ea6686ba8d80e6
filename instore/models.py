"""In-store selling: shelf-label scans and what an order owes to the store it was sold in.

An order's channel ("in store") and its store are on orders.Order; this app adds what orders
cannot know of: the shelf scan that led to it and the member of staff who sold it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ShelfScan(models.Model):
    """One scan of a shelf label's QR code: a shopper in `store` opened `product`'s page from it.

    Counted per store and product (instore.selectors.scan_counts); an order placed later in the
    same browser session records the scan (SaleAttribution.scan)."""

    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), related_name="shelf_scans", on_delete=models.CASCADE
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), related_name="shelf_scans", on_delete=models.CASCADE
    )
    scanned_at = models.DateTimeField(_("scanned at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-scanned_at", "-pk"]
        verbose_name = _("shelf label scan")
        verbose_name_plural = _("shelf label scans")
        indexes = [models.Index(fields=["store", "product"], name="shelfscan_store_product_idx")]

    def __str__(self):
        return f"{self.product_id} @ {self.store_id} {self.scanned_at:%Y-%m-%d %H:%M}"


class SaleAttribution(models.Model):
    """Where and how an order was sold, beyond orders.Order.channel: the store whose context the
    browser was in (a store link, a shelf label, a member of staff selling), the shelf scan that
    preceded the order in the same session, and the member of staff who placed it for the
    customer (assisted selling). One row per order, written with the order."""

    order = models.OneToOneField(
        "orders.Order", verbose_name=_("order"), related_name="sale_attribution", on_delete=models.CASCADE
    )
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("sold in store"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    scan = models.ForeignKey(
        ShelfScan,
        verbose_name=_("after shelf scan"),
        null=True,
        blank=True,
        related_name="attributions",
        on_delete=models.SET_NULL,
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sold by"),
        null=True,
        blank=True,
        related_name="assisted_sales",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sale attribution")
        verbose_name_plural = _("sale attributions")
        constraints = [
            # A member of staff sells in a store.
            models.CheckConstraint(
                condition=models.Q(staff__isnull=True) | models.Q(store__isnull=False),
                name="attribution_staff_sells_in_a_store",
            )
        ]

    def __str__(self):
        return f"{self.order_id}"
