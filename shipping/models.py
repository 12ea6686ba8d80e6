"""Shipping from a warehouse: the fee table (by postcode range and weight) and each order's
shipment (where to, the fee charged, the carrier's tracking number)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from stores.models import Country


class ShippingRate(models.Model):
    """One row of the fee table: parcels to postcodes `postcode_from`–`postcode_to` of `country`
    weighing at most `max_weight_grams` cost `fee`. The cheapest row that covers a parcel applies
    (shipping.selectors.shipping_options)."""

    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    postcode_from = models.PositiveIntegerField(_("postcodes from"))
    postcode_to = models.PositiveIntegerField(_("postcodes to"))
    max_weight_grams = models.PositiveIntegerField(_("up to (g)"))
    fee = models.DecimalField(_("fee"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["country", "postcode_from", "max_weight_grams"]
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        indexes = [models.Index(fields=["country", "postcode_from", "postcode_to"], name="shipping_rate_area_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(postcode_to__gte=F("postcode_from")),
                name="shipping_rate_range_in_order",
                violation_error_message=_("The last postcode of the range comes before the first."),
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0),
                name="shipping_rate_fee_not_negative",
                violation_error_message=_("A fee cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(max_weight_grams__gte=1),
                name="shipping_rate_weight_positive",
                violation_error_message=_("The weight limit must be at least 1 gram."),
            ),
        ]

    def __str__(self):
        return f"{self.country} {self.postcode_from}–{self.postcode_to} ≤ {self.max_weight_grams} g"


class ShipmentQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        if user.is_superuser:
            return self
        return self.filter(fulfilment__stock_location__managers=user)


class Shipment(models.Model):
    """A shipping fulfilment's details: the address, the weight and fee it was placed with (kept
    when the table changes), and, once it has left the warehouse, the carrier and its tracking
    number (shipping.services.mark_shipped)."""

    fulfilment = models.OneToOneField(
        "orders.Fulfilment",
        verbose_name=_("fulfilment"),
        primary_key=True,
        related_name="shipment",
        on_delete=models.CASCADE,
    )
    name = models.CharField(_("name"), max_length=150)
    address = models.CharField(_("street address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    fee = models.DecimalField(_("shipping fee"), max_digits=10, decimal_places=2)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True, editable=False)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shipped by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        editable=False,
    )

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="shipment_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(shipped_at__isnull=True) | ~Q(tracking_number=""),
                name="shipment_shipped_has_tracking_number",
            ),
        ]

    def __str__(self):
        return f"{self.fulfilment.order} → {self.postcode} {self.city}"

    @property
    def order(self):
        return self.fulfilment.order
