"""Local delivery from a store: where a store delivers (zones), when (windows), and each delivery.

A zone is a store's area: a list of postcodes and ranges, or a circle around the store; it sets
the fee, the order value above which delivery is free, the smallest order it takes and how long
the store needs to get an order ready. Windows are the store's: its van goes out on a weekday
from 17:00 to 19:00 with room for so many orders, taken until the cut-off. A delivery keeps the
zone's fee and the window as they were when the order was placed, so changing or deleting a zone
never changes an order already placed.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from o2o_site.dates import format_time_range
from o2o_site.money import validate_price
from stores.models import OpeningHours

from .zones import format_postcode_ranges, parse_postcode_ranges


class ZoneKind(models.TextChoices):
    POSTCODES = "postcodes", _("Postcodes")
    RADIUS = "radius", _("Distance from the store")


class DeliveryZoneQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        if user.is_superuser:
            return self
        return self.filter(store__managers=user)


class DeliveryZone(models.Model):
    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), related_name="delivery_zones", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("For staff, e.g. “Reykjavík west”."))
    kind = models.CharField(_("zone by"), max_length=16, choices=ZoneKind.choices, default=ZoneKind.POSTCODES)
    postcodes = models.TextField(
        _("postcodes"),
        blank=True,
        help_text=_("Postcodes and ranges of the store's country, separated by commas, e.g. “101-108, 110, 170”."),
    )
    radius_km = models.DecimalField(
        _("radius (km)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("For a zone by distance: addresses whose postcode lies within this many km of the store."),
    )
    fee = models.DecimalField(_("delivery fee"), max_digits=12, decimal_places=2, validators=[validate_price])
    free_above = models.DecimalField(
        _("free from order value"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_price],
        help_text=_("Delivery costs nothing for orders of this value or more. Empty: never free."),
    )
    minimum_order = models.DecimalField(
        _("minimum order"), max_digits=12, decimal_places=2, default=0, validators=[validate_price]
    )
    lead_time_minutes = models.PositiveIntegerField(
        _("lead time (minutes)"),
        default=120,
        help_text=_("The earliest window offered starts at least this long after the order is placed."),
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("days ahead offered"), default=7, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = DeliveryZoneQuerySet.as_manager()

    class Meta:
        ordering = ["store", "name"]
        verbose_name = _("delivery zone")
        verbose_name_plural = _("delivery zones")
        constraints = [
            models.CheckConstraint(
                condition=Q(fee__gte=0, minimum_order__gte=0) & (Q(free_above__isnull=True) | Q(free_above__gte=0)),
                name="delivery_zone_amounts_not_negative",
                violation_error_message=_("The fee, the minimum order and “free above” cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(kind=ZoneKind.POSTCODES) | Q(radius_km__gt=0),
                name="delivery_zone_radius_given",
                violation_error_message=_("A zone by distance needs a radius above 0 km."),
            ),
            models.CheckConstraint(
                condition=Q(days_ahead__gte=1),
                name="delivery_zone_days_ahead_min",
                violation_error_message=_("Shoppers must be able to book at least 1 day ahead."),
            ),
        ]

    def __str__(self):
        return f"{self.store} – {self.name}"

    def clean(self):
        if self.kind == ZoneKind.RADIUS:
            if not self.radius_km:
                raise ValidationError({"radius_km": _("Give the distance from the store the zone reaches.")})
        elif self.store_id is not None:
            try:
                ranges = parse_postcode_ranges(self.postcodes, country=self.store.country)
            except ValidationError as refused:
                raise ValidationError({"postcodes": refused.messages}) from None
            if not ranges:
                raise ValidationError({"postcodes": _("List the postcodes the zone covers.")})
            self.postcodes = format_postcode_ranges(ranges)


class DeliveryWindowQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        if user.is_superuser:
            return self
        return self.filter(store__managers=user)


class DeliveryWindow(models.Model):
    """A time the store's van delivers on a weekday, in the store's own time zone, with room for
    `capacity` orders, ordered until `cutoff` on the day. None on the store's closed dates."""

    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), related_name="delivery_windows", on_delete=models.CASCADE
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=OpeningHours.Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    cutoff = models.TimeField(_("order by"), help_text=_("Orders for the window are taken until this time that day."))
    capacity = models.PositiveSmallIntegerField(_("orders per window"), default=10, validators=[MinValueValidator(1)])

    objects = DeliveryWindowQuerySet.as_manager()

    class Meta:
        ordering = ["store", "weekday", "starts"]
        verbose_name = _("delivery window")
        verbose_name_plural = _("delivery windows")
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday", "starts"], name="delivery_window_unique_start"),
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")),
                name="delivery_window_ends_after_start",
                violation_error_message=_("The window must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(cutoff__lte=F("starts")),
                name="delivery_window_cutoff_before_start",
                violation_error_message=_("The order deadline must be at or before the window's start."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="delivery_window_capacity_min",
                violation_error_message=_("A delivery window takes at least 1 order."),
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {format_time_range(self.starts, self.ends)}"

    def clean(self):
        problems = {}
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            problems["ends"] = _("A window ends after it starts (on the same day).")
        if self.cutoff is not None and self.starts is not None and self.cutoff > self.starts:
            problems["cutoff"] = _("Orders must be taken by the time the window starts.")
        if problems:
            raise ValidationError(problems)


class DeliveryRound(models.Model):
    """One (store, local date) on which a delivery has been booked: the row checkouts lock.

    Windows may overlap (17:00-19:00 and 18:00-20:00, or a window changed under orders already
    booked), so what is counted against a window's capacity is every delivery whose window
    overlaps it, and checkouts booking on the same day of the same store take turns on this row.
    """

    store = models.ForeignKey("stores.Store", verbose_name=_("store"), related_name="+", on_delete=models.CASCADE)
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["store", "date"]
        verbose_name = _("delivery round")
        verbose_name_plural = _("delivery rounds")
        constraints = [models.UniqueConstraint(fields=["store", "date"], name="delivery_round_unique_store_date")]

    def __str__(self):
        return f"{self.store} {self.date:%Y-%m-%d}"


class DeliveryState(models.TextChoices):
    TO_PACK = "to_pack", _("To be packed")
    PACKED = "packed", _("Packed")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Delivery failed")
    # Failed, and the shopper collects it at the store instead (a pickup from then on).
    TO_COLLECT = "to_collect", _("To be collected at the store")


# The one table of a delivery's legal steps; delivery.services enforces it.
DELIVERY_TRANSITIONS = {
    DeliveryState.TO_PACK: {DeliveryState.PACKED},
    DeliveryState.PACKED: {DeliveryState.OUT_FOR_DELIVERY},
    DeliveryState.OUT_FOR_DELIVERY: {DeliveryState.DELIVERED, DeliveryState.FAILED},
    # Failed at the door: packed again for another window (rebook_delivery), or collected at the
    # store instead (checkout.services.collect_failed_delivery_at_store).
    DeliveryState.FAILED: {DeliveryState.PACKED, DeliveryState.TO_COLLECT},
    DeliveryState.DELIVERED: set(),
    DeliveryState.TO_COLLECT: set(),
}


class FailureReason(models.TextChoices):
    NO_ONE_HOME = "no_one_home", _("No one home")
    ADDRESS_NOT_FOUND = "address_not_found", _("Address not found")
    REFUSED = "refused", _("Refused at the door")
    DAMAGED = "damaged", _("Damaged on the way")
    OTHER = "other", _("Other")


class Delivery(models.Model):
    """What a local-delivery fulfilment needs beyond the order: where to, in which window, for
    what fee, and where it stands. One per delivery fulfilment (its primary key).

    The zone's name and fee and the window are copied here when the order is placed; the zone
    may change or go, the order keeps what the shopper agreed to."""

    fulfilment = models.OneToOneField(
        "orders.Fulfilment",
        verbose_name=_("fulfilment"),
        primary_key=True,
        related_name="delivery",
        on_delete=models.CASCADE,
    )
    # The store whose van delivers and whose windows it takes (the fulfilment's stock location);
    # kept here so counting a store's booked windows is one range on one index.
    store = models.ForeignKey("stores.Store", verbose_name=_("store"), related_name="+", on_delete=models.PROTECT)
    zone = models.ForeignKey(
        DeliveryZone, verbose_name=_("zone"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    zone_name = models.CharField(_("zone name"), max_length=80, editable=False)
    fee = models.DecimalField(_("delivery fee"), max_digits=12, decimal_places=2, editable=False)
    window_start = models.DateTimeField(_("window"), editable=False)
    window_end = models.DateTimeField(_("window ends"), editable=False)
    street = models.CharField(_("street address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country code"), max_length=2)
    phone = models.CharField(_("phone"), max_length=32)
    # The postcode's coordinates (stores.PostcodeLocation) when the order was placed: the
    # driver's page orders the round by them.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    state = models.CharField(
        _("delivery status"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.TO_PACK
    )
    failure_reason = models.CharField(_("why it failed"), max_length=32, choices=FailureReason.choices, blank=True)
    # 1 for the first trip to the door, one more for each rebooking after a failure: the
    # "on its way" e-mail is sent once per attempt (its notification's reference).
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1, editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["store", "window_start"], name="delivery_store_window_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="delivery_window_ends_after"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="delivery_fee_not_negative"),
        ]

    def __str__(self):
        return f"{self.fulfilment} → {self.postcode} {self.city}"

    @property
    def order(self):
        return self.fulfilment.order

    @property
    def window_length(self) -> datetime.timedelta:
        return self.window_end - self.window_start
