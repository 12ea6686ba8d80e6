import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from o2o_site.dates import format_time_range


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class PaymentOptions(models.TextChoices):
    """How shoppers may pay for orders picked up at a store: Store.payment_options, or the shop's
    default SHOP_PAYMENT_OPTIONS. Paying online also needs a provider (PAYMENT_VARIANTS)."""

    BOTH = "both", _("Pay online or at pickup")
    ONLINE = "online", _("Pay online only")
    AT_PICKUP = "at_pickup", _("Pay at pickup only")

    @property
    def online(self) -> bool:
        return self in (PaymentOptions.BOTH, PaymentOptions.ONLINE)

    @property
    def at_pickup(self) -> bool:
        return self in (PaymentOptions.BOTH, PaymentOptions.AT_PICKUP)


# Paths under /stores/ that are pages of their own, not a store (stores/urls.py).
RESERVED_STORE_SLUGS = frozenset({"choose"})


def validate_store_slug_is_free(value):
    if value in RESERVED_STORE_SLUGS:
        raise ValidationError(
            _("“%(value)s” is the address of another page of the shop; choose another slug."),
            params={"value": value},
        )


class Country(models.TextChoices):
    """The countries the shop has stores in (ISO 3166 codes): each has its VAT rates
    (settings.VAT_RATES), postcode format (stores.postcodes) and seller on receipts."""

    ICELAND = "IS", _("Iceland")
    NORWAY = "NO", _("Norway")


# The shop's home country is the country of the currency it sells in (settings.SHOP_CURRENCY):
# lists of stores for a shopper who chose none start with that country's.
CURRENCY_COUNTRIES = {"ISK": Country.ICELAND, "NOK": Country.NORWAY}


def home_country() -> str:
    """The shop's own country ("IS" or "NO"), from the currency it sells in."""
    return CURRENCY_COUNTRIES.get(settings.SHOP_CURRENCY, Country.ICELAND).value


class StoreKind(models.TextChoices):
    """A store shoppers come to, or a warehouse: it holds stock and ships (the shipping app), but is
    never shown to shoppers (store list, locator, availability, checkout, store pages)."""

    STORE = "store", _("Store")
    WAREHOUSE = "warehouse", _("Warehouse")


class StoreQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_shoppers(self):
        """Active stores shoppers may see and come to: never a warehouse."""
        return self.active().filter(kind=StoreKind.STORE)

    def warehouses(self):
        return self.active().filter(kind=StoreKind.WAREHOUSE)

    def offering_pickup(self):
        return self.for_shoppers().filter(offers_pickup=True)

    def accepting_returns(self):
        return self.for_shoppers().filter(accepts_returns=True)

    def managed_by(self, user):
        """The stores a member of staff may see and act on: all for a superuser."""
        if user.is_superuser:
            return self
        return self.filter(managers=user)


class Store(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True, validators=[validate_store_slug_is_free])
    address = models.CharField(_("street address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Atlantic/Reykjavik", validators=[validate_time_zone]
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    parking = models.TextField(
        _("parking"), blank=True, help_text=_("Where shoppers can park, e.g. “Free parking behind the store, 2 hours.”")
    )
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=StoreKind.choices,
        default=StoreKind.STORE,
        help_text=_("A warehouse holds stock and ships orders, but shoppers never see it or come to it."),
    )
    offers_pickup = models.BooleanField(_("offers pickup"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Returns of online orders are taken at any store that accepts them (the returns app).
    accepts_returns = models.BooleanField(
        _("accepts returns"),
        default=True,
        help_text=_("Shoppers may bring back online orders here, whichever store they were picked up at."),
    )
    payment_options = models.CharField(
        _("payment"),
        max_length=16,
        choices=PaymentOptions.choices,
        blank=True,
        help_text=_("How shoppers may pay for orders picked up here. Empty: the shop's default."),
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("managers"),
        related_name="managed_stores",
        blank=True,
    )

    objects = StoreQuerySet.as_manager()

    class Meta:
        ordering = ["city", "name"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="store_coordinates_valid",
                violation_error_message=_(
                    "The latitude must be between −90 and 90 and the longitude between −180 and 180."
                ),
            ),
            # Shoppers never come to a warehouse: it neither hands orders over nor takes returns.
            models.CheckConstraint(
                condition=Q(kind="store") | Q(offers_pickup=False, accepts_returns=False),
                name="warehouse_offers_no_pickup_or_returns",
                violation_error_message=_(
                    "A warehouse cannot offer pickup or take returns: shoppers never come to it. "
                    "Untick “offers pickup” and “accepts returns”."
                ),
            ),
        ]
        # The store locator's bounding box (stores.selectors.nearest_stores).
        indexes = [models.Index(fields=["latitude", "longitude"], name="store_lat_lon_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("stores:store_detail", kwargs={"slug": self.slug})

    @property
    def payment_options_in_force(self) -> PaymentOptions:
        """The store's own choice, or else the shop's (SHOP_PAYMENT_OPTIONS)."""
        return PaymentOptions(self.payment_options or settings.SHOP_PAYMENT_OPTIONS)

    @property
    def is_warehouse(self) -> bool:
        return self.kind == StoreKind.WAREHOUSE

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_now(self, now=None):
        return (now or timezone.now()).astimezone(self.zone)

    def directions_url(self):
        return (
            "https://www.openstreetmap.org/directions?to="
            f"{self.latitude}%2C{self.longitude}#map=16/{self.latitude}/{self.longitude}"
        )

    def is_open_at(self, moment, hours=None):
        """Whether the store is open at `moment` (aware datetime), in the store's own time zone.

        `hours` may be passed in when they were prefetched, to avoid a query per store.
        """
        local = moment.astimezone(self.zone)
        hours = self.opening_hours.all() if hours is None else hours
        return any(interval.weekday == local.weekday() and interval.contains(local.time()) for interval in hours)

    def is_open_now(self):
        return self.is_open_at(timezone.now())


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    store = models.ForeignKey(Store, verbose_name=_("store"), related_name="opening_hours", on_delete=models.CASCADE)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday", "opens"], name="opening_hours_unique_start"),
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")),
                name="opening_hours_closes_after_opens",
                violation_error_message=_(
                    "The store must close after it opens on that day; a day without opening hours is closed."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {format_time_range(self.opens, self.closes)}"

    def contains(self, local_time):
        return self.opens <= local_time < self.closes


class SpecialOpeningHours(models.Model):
    """A date on which the store keeps other hours than its week's, or is closed all day (public
    holidays, stock-taking). Pickup times follow them (pickup.slots.slot_grid)."""

    store = models.ForeignKey(Store, verbose_name=_("store"), related_name="special_hours", on_delete=models.CASCADE)
    date = models.DateField(_("date"))
    opens = models.TimeField(_("opens"), null=True, blank=True, help_text=_("Empty: closed all day."))
    closes = models.TimeField(_("closes"), null=True, blank=True)
    reason = models.CharField(
        _("reason"),
        max_length=120,
        blank=True,
        help_text=_("Shown to shoppers, e.g. “Christmas Eve” or “Stock-taking”."),
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("special opening hours")
        verbose_name_plural = _("special opening hours and closures")
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="special_hours_one_per_date"),
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__isnull=False, closes__gt=F("opens")),
                name="special_hours_closed_or_closes_after_opens",
                violation_error_message=_(
                    "Leave both times empty for a day closed, or give both with closing after opening."
                ),
            ),
        ]

    def __str__(self):
        if self.is_closed:
            return f"{self.date:%Y-%m-%d} {_('closed')}"
        return f"{self.date:%Y-%m-%d} {format_time_range(self.opens, self.closes)}"

    @property
    def is_closed(self):
        return self.opens is None

    def clean(self):
        if (self.opens is None) != (self.closes is None):
            raise ValidationError(_("Give both the opening and the closing time, or neither for a closed day."))
        if self.opens is not None and self.closes <= self.opens:
            raise ValidationError(_("The store must close after it opens."))


class StockLevelQuerySet(models.QuerySet):
    def at_store(self, store):
        return self.filter(store=store)

    def for_product(self, product):
        return self.filter(product=product)

    def with_available(self):
        return self.annotate(available_quantity=F("on_hand") - F("reserved"))

    def available(self):
        """Rows with at least one unit a shopper can buy."""
        return self.filter(on_hand__gt=F("reserved"))


class StockLevel(models.Model):
    """Units of one product at one store. Changed only through stores.services."""

    # No index of their own (db_index=False): each key leads a composite index below, the store
    # stock_level_unique_store_product, the product stock_product_store_idx; a third and fourth
    # index would only be written on every stock change.
    store = models.ForeignKey(
        Store, verbose_name=_("store"), related_name="stock_levels", on_delete=models.CASCADE, db_index=False
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        related_name="stock_levels",
        on_delete=models.CASCADE,
        db_index=False,
    )
    on_hand = models.PositiveIntegerField(_("on hand"), default=0)
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        ordering = ["store", "product"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="stock_level_unique_store_product"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0),
                name="stock_on_hand_not_negative",
                violation_error_message=_("The units on hand cannot be negative."),
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]
        indexes = [models.Index(fields=["product", "store"], name="stock_product_store_idx")]

    def __str__(self):
        return f"{self.product} @ {self.store}"

    @property
    def available(self):
        return self.on_hand - self.reserved


class PostcodeLocation(models.Model):
    """Where a postcode lies, so shoppers can find the stores nearest to them without GPS."""

    country = models.CharField(_("country code"), max_length=2)
    postcode = models.CharField(_("postcode"), max_length=16)
    place_name = models.CharField(_("place"), max_length=120, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)

    class Meta:
        ordering = ["country", "postcode"]
        verbose_name = _("postcode location")
        verbose_name_plural = _("postcode locations")
        constraints = [
            models.UniqueConstraint(fields=["country", "postcode"], name="postcode_unique_per_country"),
        ]

    def __str__(self):
        return f"{self.postcode} {self.place_name} ({self.country})"
