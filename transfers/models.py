"""Transfers between locations (ship-to-store): the routes goods travel between two locations
(with their lead time), and each transfer of units from a source (store or warehouse) to a
destination store, usually for an order waiting there.

Stock: creating a transfer reserves its units at the source; sending it takes them off the
source's shelf (neither reserved nor on hand there: they are in transit); receiving it puts them
on hand at the destination, already reserved for the waiting order. Every change goes through
stores.services; transfers.services holds the state machine (TRANSFER_TRANSITIONS).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TransferRoute(models.Model):
    """How goods travel from `source` to `destination`: the lead time in days, or closed.

    With no route row, two locations in the same country are linked with the shop's default lead
    time (settings.TRANSFER_DEFAULT_LEAD_DAYS) and locations in different countries are not linked
    at all (customs); a row overrides both (transfers.selectors.transfer_arrivals reads it).
    """

    source = models.ForeignKey(
        "stores.Store", verbose_name=_("from"), related_name="transfer_routes_out", on_delete=models.CASCADE
    )
    destination = models.ForeignKey(
        "stores.Store", verbose_name=_("to"), related_name="transfer_routes_in", on_delete=models.CASCADE
    )
    lead_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        help_text=_("Days from the order until the goods can be collected at the destination (0: the same day)."),
    )
    is_active = models.BooleanField(
        _("open"), default=True, help_text=_("Untick to send no transfers along this route.")
    )

    class Meta:
        ordering = ["source", "destination"]
        verbose_name = _("transfer route")
        verbose_name_plural = _("transfer routes")
        constraints = [
            models.UniqueConstraint(fields=["source", "destination"], name="transfer_route_unique_pair"),
            models.CheckConstraint(
                condition=~Q(source=F("destination")),
                name="transfer_route_between_two_locations",
                violation_error_message=_("A route goes from one location to another."),
            ),
            models.CheckConstraint(
                condition=Q(lead_days__lte=60),
                name="transfer_route_lead_days_at_most_60",
                violation_error_message=_("A lead time is at most 60 days."),
            ),
        ]

    def __str__(self):
        return f"{self.source} → {self.destination}"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PICKED = "picked", _("Picked")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


# The one table of legal moves; transfers.services.move_transfer enforces it. A transfer on its
# way cannot be cancelled: its units are in a van, not on a shelf; it is received at its
# destination (where they go on sale if the order waiting for them was cancelled meanwhile).
TRANSFER_TRANSITIONS = {
    TransferStatus.REQUESTED: {TransferStatus.PICKED, TransferStatus.IN_TRANSIT, TransferStatus.CANCELLED},
    TransferStatus.PICKED: {TransferStatus.IN_TRANSIT, TransferStatus.CANCELLED},
    TransferStatus.IN_TRANSIT: {TransferStatus.RECEIVED},
    TransferStatus.RECEIVED: set(),
    TransferStatus.CANCELLED: set(),
}
# Transfers whose units are reserved at their source (not yet sent).
STATUSES_RESERVED_AT_SOURCE = (TransferStatus.REQUESTED, TransferStatus.PICKED)
# Transfers not yet at their destination: their units are not there.
STATUSES_ON_THE_WAY = (TransferStatus.REQUESTED, TransferStatus.PICKED, TransferStatus.IN_TRANSIT)


class TransferQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        """Transfers out of or into the stores `user` manages (all for a superuser)."""
        if user.is_superuser:
            return self
        return self.filter(Q(source__managers=user) | Q(destination__managers=user)).distinct()

    def on_the_way(self):
        return self.filter(status__in=STATUSES_ON_THE_WAY)


class Transfer(models.Model):
    """Units of products sent from `source` (a store or warehouse) to the `destination` store,
    for the pickup `fulfilment` waiting there (an order placed by transfer), through requested →
    picked → in transit → received (or cancelled before it leaves). Changed only through
    transfers.services."""

    number = models.CharField(_("transfer number"), max_length=20, unique=True, editable=False)
    source = models.ForeignKey(
        "stores.Store", verbose_name=_("from"), related_name="transfers_out", on_delete=models.PROTECT
    )
    destination = models.ForeignKey(
        "stores.Store", verbose_name=_("to"), related_name="transfers_in", on_delete=models.PROTECT
    )
    fulfilment = models.ForeignKey(
        "orders.Fulfilment",
        verbose_name=_("for"),
        null=True,
        blank=True,
        related_name="transfers",
        on_delete=models.PROTECT,
        help_text=_("The order waiting for these units at the destination."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.REQUESTED, editable=False
    )
    expected_on = models.DateField(_("expected at the destination on"), editable=False)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, editable=False)

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [
            models.Index(fields=["source", "status"], name="transfer_source_status_idx"),
            models.Index(fields=["destination", "status"], name="transfer_dest_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_between_two_locations"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_on_the_way(self) -> bool:
        return self.status in STATUSES_ON_THE_WAY

    def can_move_to(self, status: TransferStatus) -> bool:
        return status in TRANSFER_TRANSITIONS[TransferStatus(self.status)]


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), related_name="+", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="transfer_line_quantity_positive"),
            models.UniqueConstraint(fields=["transfer", "product"], name="transfer_line_unique_product"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product}"


class TransferEvent(models.Model):
    """One row per move of a transfer (who, where, when, from, to), and per refused attempt (a
    second receipt, a receipt at the wrong store): the audit both stores read."""

    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), related_name="events", on_delete=models.CASCADE)
    from_status = models.CharField(_("from"), max_length=16, choices=TransferStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=TransferStatus.choices)
    at_store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    refused = models.BooleanField(_("refused"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("transfer event")
        verbose_name_plural = _("transfer events")

    def __str__(self):
        return f"{self.transfer}: {self.from_status or '—'} → {self.to_status}"
