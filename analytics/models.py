"""Daily roll-up rows: one per store and day, the dashboard's only source.

Each row holds counts and sums of what happened at one store on one day of the store's own
calendar (its time zone), written by analytics.rollups.roll_up from the rows of the apps that
record each event (orders, pickup, returns, instore, rewards, coupons). Averages are kept as a
sum and a count, so any range of days adds up to the right average. Rows are rewritten whole on
every run, so running a day again only makes it current (README, "The O2O dashboard").
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


def _count(label):
    return models.PositiveIntegerField(label, default=0)


def _amount(label):
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=0)


def _seconds(label):
    return models.BigIntegerField(label, default=0)


class DailyStoreFiguresQuerySet(models.QuerySet):
    def for_stores_managed_by(self, user):
        """A superuser's: every store's rows; a manager's: their stores' only."""
        if user.is_superuser:
            return self
        return self.filter(store__managers=user)


class DailyStoreFigures(models.Model):
    """What happened at `store` on `day` (the store's local date). Amounts are Decimal in the
    shop's currency (SHOP_CURRENCY); times are whole seconds; counts are of orders, fulfilments,
    returns, scans or coupon uses as named."""

    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), related_name="daily_figures", on_delete=models.CASCADE
    )
    day = models.DateField(_("day"))

    # Orders placed that day, by channel (not those still awaiting or never completing payment),
    # and their totals as placed (before later cancellations and returns).
    orders_web = _count(_("web shop orders"))
    orders_kiosk = _count(_("kiosk orders"))
    orders_in_store = _count(_("in-store orders"))
    revenue_web = _amount(_("web shop revenue"))
    revenue_kiosk = _amount(_("kiosk revenue"))
    revenue_in_store = _amount(_("in-store revenue"))

    # Fulfilments completed that day, by how the goods reached the shopper.
    collected_in_store = _count(_("collected in store"))
    collected_curbside = _count(_("collected at the curb"))
    delivered = _count(_("delivered"))
    shipped = _count(_("shipped"))

    # Pickup fulfilments that became ready that day, and the seconds from placing to ready.
    ready_count = _count(_("made ready"))
    ready_seconds = _seconds(_("placed to ready (seconds, summed)"))
    # Pickup fulfilments collected that day after being ready, and the seconds from ready to collected.
    collected_after_ready = _count(_("collected after ready"))
    collect_seconds = _seconds(_("ready to collected (seconds, summed)"))
    # Curbside hand-overs that day of shoppers who had checked in, and their waits at the curb.
    curbside_waits = _count(_("curbside waits"))
    curbside_wait_seconds = _seconds(_("curbside wait (seconds, summed)"))
    # Ready pickup fulfilments cancelled that day instead of collected; of them, the ones the
    # shop cancelled because their pickup time ran out (cancel reason "not collected in time").
    uncollected = _count(_("not collected"))
    expired = _count(_("expired"))

    # Returns received in this store that day of orders placed online (web shop or kiosk), and
    # how many of them were bought at another store.
    returns_online = _count(_("online orders returned here"))
    returns_from_other_stores = _count(_("of them bought at another store"))

    # Shelf-label QR scans in this store that day; orders placed that day after a scan here.
    shelf_scans = _count(_("shelf-label scans"))
    orders_after_scan = _count(_("orders after a scan"))
    revenue_after_scan = _amount(_("revenue after a scan"))

    # Reward points earned and redeemed that day at this store (or for its orders), by channel.
    points_earned_web = _amount(_("points earned online"))
    points_earned_in_store = _amount(_("points earned in store"))
    points_redeemed_web = _amount(_("points redeemed online"))
    points_redeemed_in_store = _amount(_("points redeemed in store"))

    # Coupon uses recorded that day at this store, by channel, and the discount they gave.
    coupons_web = _count(_("coupon uses online"))
    coupons_kiosk = _count(_("coupon uses at kiosks"))
    coupons_in_store = _count(_("coupon uses in store"))
    coupon_discount_web = _amount(_("coupon discount online"))
    coupon_discount_kiosk = _amount(_("coupon discount at kiosks"))
    coupon_discount_in_store = _amount(_("coupon discount in store"))

    computed_at = models.DateTimeField(_("computed at"))

    objects = DailyStoreFiguresQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "store"]
        verbose_name = _("daily store figures")
        verbose_name_plural = _("daily store figures")
        constraints = [models.UniqueConstraint(fields=["store", "day"], name="daily_figures_one_per_store_day")]
        # The dashboard reads a range of days, for all stores or a few: (day, store) serves both.
        indexes = [models.Index(fields=["day", "store"], name="daily_figures_day_store_idx")]

    def __str__(self):
        return f"{self.store_id} {self.day:%Y-%m-%d}"


# Every figure column: what a run writes, what the dashboard sums.
FIGURE_FIELDS = [
    field.name
    for field in DailyStoreFigures._meta.concrete_fields
    if field.name not in ("id", "store", "day", "computed_at")
]
