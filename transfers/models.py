"""Transfers between locations (ship-to-store): the routes goods travel between two locations
(with their lead time), and each transfer of units from a source (store or warehouse) to a
destination store, usually for an order waiting there.

Stock: creating a transfer reserves its units at the source; sending it takes them off the
source's shelf (neither reserved nor on hand there: they are in transit); receiving it puts them
on hand at the destination, already reserved for the waiting order. Every change goes through
stores.services; transfers.services holds the state machine (TRANSFER_TRANSITIONS).
"""

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
