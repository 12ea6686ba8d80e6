from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import FulfilmentStatus


class Pickup(models.Model):
    """What a pickup fulfilment needs beyond the order: the code shown at hand-over, the booked
    pickup time, and who comes in what car. One per pickup fulfilment (its primary key)."""

    fulfilment = models.OneToOneField(
        "orders.Fulfilment",
        verbose_name=_("fulfilment"),
        primary_key=True,
        related_name="pickup",
        on_delete=models.CASCADE,
    )
    # Where the shopper comes for the goods: the store whose pickup slots and capacity the pickup
    # takes. Today the fulfilment's stock location; kept here so that counting a store's booked
    # slots is one range on one index (pickup_store_slot_idx), as it was on the order.
    store = models.ForeignKey(
        "stores.Store", verbose_name=_("pickup store"), related_name="+", on_delete=models.PROTECT
    )
    # Random, not derived from the number: the shopper shows it, staff verify it at hand-over.
    code = models.CharField(_("pickup code"), max_length=12, editable=False)
    # The pickup time the shopper chose, as the slot was when the order was placed (aware, UTC).
    slot_start = models.DateTimeField(_("pickup slot"), null=True, blank=True, editable=False)
    slot_end = models.DateTimeField(_("pickup slot ends"), null=True, blank=True, editable=False)
    vehicle_description = models.CharField(
        _("vehicle"), max_length=120, blank=True, help_text=_("For curbside pickup, e.g. “red Toyota Yaris, AB-123”.")
    )
    # Someone other than the shopper may collect (a gift, a partner); staff see the name at hand-over.
    collector_name = models.CharField(_("collected by (name)"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("pickup")
        verbose_name_plural = _("pickups")
        indexes = [
            # Slot counting (pickup.slots): a store's pickups in a range of starts.
            models.Index(fields=["store", "slot_start"], name="pickup_store_slot_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_start__isnull=True) | Q(slot_end__gt=F("slot_start")),
                name="pickup_slot_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.fulfilment} ({self.code})"

    @property
    def order(self):
        return self.fulfilment.order

    @property
    def is_curbside(self):
        return self.fulfilment.is_curbside

    @property
    def collector(self):
        """Who comes for the order: the named collector, else the shopper."""
        return self.collector_name or self.fulfilment.order.contact_name

    @property
    def qr_payload(self):
        return f"O2O:{self.fulfilment.order.number}:{self.code}"


class PickupCodeAttemptQuerySet(models.QuerySet):
    def failures_counting_towards_lock(self):
        """Wrong codes typed since the order's lock was last reset."""
        return self.filter(succeeded=False, refused_as_locked=False, cleared_at__isnull=True)


class PickupCodeAttempt(models.Model):
    """One pickup code typed at a hand-over, right or wrong: the brute-force limits count these.

    Wrong codes lock the order's hand-over after pickup.services.MAX_FAILURES_PER_ORDER until a
    manager resets it (which clears, not deletes, the failures), and lock a member of staff out
    of collecting for a while after MAX_FAILURES_PER_USER wrong codes across orders.
    """

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), related_name="pickup_code_attempts", on_delete=models.CASCADE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("typed by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    succeeded = models.BooleanField(_("code matched"))
    # Typed while the order or the user was locked: refused without looking at the code.
    refused_as_locked = models.BooleanField(_("refused (locked)"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("lock reset at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lock reset by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

    objects = PickupCodeAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("pickup code attempt")
        verbose_name_plural = _("pickup code attempts")
        indexes = [
            models.Index(fields=["order", "succeeded"], name="pickup_attempt_order_idx"),
            models.Index(fields=["user", "at"], name="pickup_attempt_user_at_idx"),
        ]
        permissions = [("reset_pickup_code_lock", _("Can reset a pickup-code lock"))]

    def __str__(self):
        outcome = _("right code") if self.succeeded else _("wrong code")
        return f"{self.order} — {outcome} ({self.at:%Y-%m-%d %H:%M})"


class PickupSettings(models.Model):
    """How a store runs pickup: curbside, pickup time slots, reminders and expiry.

    A row of its own in pickup/, not more columns on Store: the store app describes the shop
    (address, hours, stock), this describes the pickup service, and a store without a row simply
    runs on the defaults below (see PickupSettings.for_store).
    """

    store = models.OneToOneField(
        "stores.Store",
        verbose_name=_("store"),
        primary_key=True,
        related_name="pickup_settings",
        on_delete=models.CASCADE,
    )
    offers_curbside = models.BooleanField(_("offers curbside pickup"), default=False)
    curbside_instructions = models.TextField(
        _("curbside instructions"),
        blank=True,
        help_text=_("How shoppers find the pickup spots, e.g. “Park in the marked bays by the side entrance.”"),
    )
    curbside_bays = models.PositiveSmallIntegerField(
        _("numbered curbside bays"), default=0, help_text=_("0 if the spots are not numbered.")
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"), default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    orders_per_slot = models.PositiveSmallIntegerField(
        _("orders per slot"), default=10, validators=[MinValueValidator(1)]
    )
    lead_time_minutes = models.PositiveSmallIntegerField(
        _("preparation lead time (minutes)"),
        default=60,
        help_text=_("The earliest slot offered starts at least this long after the order is placed."),
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("days ahead offered"), default=7, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    remind_after_hours = models.PositiveSmallIntegerField(
        _("remind after (hours)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("E-mail a reminder when a ready order has not been collected after this many hours."),
    )
    expire_after_days = models.PositiveSmallIntegerField(
        _("cancel after (days)"),
        default=7,
        validators=[MinValueValidator(1)],
        help_text=_("Cancel a ready order not collected after this many days; its units go back on sale."),
    )

    class Meta:
        verbose_name = _("pickup settings")
        verbose_name_plural = _("pickup settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=10),
                name="pickup_slot_minutes_min",
                violation_error_message=_("A pickup time is at least 10 minutes long."),
            ),
            models.CheckConstraint(
                condition=Q(orders_per_slot__gte=1),
                name="pickup_orders_per_slot_min",
                violation_error_message=_("A pickup time takes at least 1 order."),
            ),
            models.CheckConstraint(
                condition=Q(days_ahead__gte=1),
                name="pickup_days_ahead_min",
                violation_error_message=_("Shoppers must be able to book at least 1 day ahead."),
            ),
            models.CheckConstraint(
                condition=Q(remind_after_hours__gte=1),
                name="pickup_remind_after_min",
                violation_error_message=_("The reminder goes out 1 hour after the order is ready at the earliest."),
            ),
            models.CheckConstraint(
                condition=Q(expire_after_days__gte=1),
                name="pickup_expire_after_min",
                violation_error_message=_("An uncollected order can be cancelled after 1 day at the earliest."),
            ),
        ]

    def __str__(self):
        return str(self.store)

    @classmethod
    def for_store(cls, store):
        """The store's settings, or the defaults (unsaved) when it has none."""
        try:
            return store.pickup_settings
        except cls.DoesNotExist:
            return cls(store=store)


class PickupSlot(models.Model):
    """One (store, slot start) that has been booked at least once: the row checkouts lock.

    The number of orders in a slot is counted from the orders themselves; this row only gives
    concurrent checkouts of the same slot one thing to queue on (select_for_update), so the
    count and the new order are decided one checkout at a time.
    """

    store = models.ForeignKey("stores.Store", verbose_name=_("store"), related_name="+", on_delete=models.CASCADE)
    starts_at = models.DateTimeField(_("starts at"))

    class Meta:
        ordering = ["store", "starts_at"]
        verbose_name = _("pickup slot")
        verbose_name_plural = _("pickup slots")
        constraints = [
            models.UniqueConstraint(fields=["store", "starts_at"], name="pickup_slot_unique_store_start"),
        ]

    def __str__(self):
        return f"{self.store} {self.starts_at:%Y-%m-%d %H:%M} UTC"


class CurbsideState(models.TextChoices):
    ON_THE_WAY = "on_the_way", _("On the way")
    ARRIVED = "arrived", _("Checked in")
    HANDED_OVER = "handed_over", _("Handed over")


class CurbsideVisitQuerySet(models.QuerySet):
    def waiting(self):
        """Shoppers on the way or at the curb whose order is still to be handed over."""
        return self.filter(
            state__in=(CurbsideState.ON_THE_WAY, CurbsideState.ARRIVED), fulfilment__status=FulfilmentStatus.READY
        )


class CurbsideVisit(models.Model):
    """A curbside shopper's trip to the store: on the way, checked in, handed over.

    One per fulfilment (the primary key; check-in belongs to the fulfilment, not the order), so
    checking in twice can never put a shopper in the queue twice. Written only by pickup.curbside.
    """

    fulfilment = models.OneToOneField(
        "orders.Fulfilment",
        verbose_name=_("fulfilment"),
        primary_key=True,
        related_name="curbside_visit",
        on_delete=models.CASCADE,
    )
    state = models.CharField(_("state"), max_length=16, choices=CurbsideState.choices)
    on_the_way_at = models.DateTimeField(_("on the way since"), null=True, blank=True)
    eta = models.DateTimeField(_("expected at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    bay = models.PositiveSmallIntegerField(_("bay"), null=True, blank=True)
    vehicle = models.CharField(_("vehicle"), max_length=120, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    wait_seconds = models.PositiveIntegerField(_("wait (seconds)"), null=True, blank=True)

    objects = CurbsideVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("curbside visit")
        verbose_name_plural = _("curbside visits")
        indexes = [
            models.Index(fields=["state", "arrived_at"], name="curbside_state_idx"),
            # The analytics roll-up reads a range of days' hand-overs (analytics.rollups).
            models.Index(fields=["handed_over_at"], name="curbside_handed_over_idx"),
        ]

    def __str__(self):
        return f"{self.fulfilment} ({self.get_state_display()})"
