"""Every change to per-store stock, and to who manages a store, happens here.

Rules: inside transaction.atomic, rows locked in primary-key order (so two checkouts touching
the same products can never deadlock), counters written with F() expressions, and the database
constraints on StockLevel as the last line of defence.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import set_preferred_store
from catalog.models import Product
from o2o_site.cache import stamps
from o2o_site.csv_import import write_in_batches

from .models import StockLevel, Store
from .selectors import MY_STORE_SESSION_KEY


@dataclass(frozen=True)
class Shortfall:
    product_id: int
    requested: int
    available: int


class InsufficientStock(Exception):
    """Raised with every short line at once, so the shopper learns all of them in one go."""

    def __init__(self, shortfalls):
        self.shortfalls = list(shortfalls)
        super().__init__(", ".join(f"product {s.product_id}: {s.available}/{s.requested}" for s in self.shortfalls))


class StockError(Exception):
    pass


def choose_my_store(*, request: HttpRequest, store: Store, on_account: bool = True) -> None:
    """Make `store` the shopper's store: in their session, and on their account when signed in
    (stores.selectors.my_store reads it back, this request included). With `on_account=False`
    for this session only: a shopper standing in a store (instore) keeps their account's store."""
    request.session[MY_STORE_SESSION_KEY] = store.pk
    if on_account and request.user.is_authenticated:
        set_preferred_store(user=request.user, store=store)
    request._my_store = store


def restore_session_store(*, request: HttpRequest, store_id: int | None) -> None:
    """Put back the session's store as it was (a store's pk, or None: the account's store, if
    any, applies again), when a session-only choice (choose_my_store(on_account=False)) ends."""
    if store_id is None:
        request.session.pop(MY_STORE_SESSION_KEY, None)
    else:
        request.session[MY_STORE_SESSION_KEY] = store_id
    if hasattr(request, "_my_store"):
        del request._my_store


def _stock_changed(*, store, product_ids) -> None:
    """Cached availability that showed these rows is out of date once this commits."""
    stamps.bump(
        stamps.store_stock_key(store.pk),
        *(stamps.product_stock_key(product_id) for product_id in sorted(product_ids)),
    )


def stores_changed() -> None:
    """Stores or their opening hours changed (added, moved, renamed, closed): the store directory
    (stores.selectors) and the pages listing stores are out of date once this transaction
    commits. The admin's saves and the demo seeding call this."""
    stamps.bump(stamps.STORES)


def _locked_levels(*, store, product_ids) -> dict[int, StockLevel]:
    """{product_id: StockLevel} of `store`'s rows of `product_ids`, locked in one statement in
    primary-key order (the order every stock change takes them in), with the counts the services
    read (updated_at deferred). Every placing runs it: its SQL is written here, as the ORM's
    select_for_update() would write it, not compiled each time (~1 ms)."""
    product_ids = sorted(product_ids)
    if not product_ids:
        return {}
    table, quote = StockLevel._meta.db_table, connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(table)}.{quote('id')}, store_id, product_id, on_hand, reserved FROM {quote(table)} "
            f"WHERE store_id = %s AND product_id IN ({', '.join(['%s'] * len(product_ids))}) "
            f"ORDER BY {quote(table)}.{quote('id')} ASC{lock}",
            [store.pk, *product_ids],
        )
        rows = cursor.fetchall()
    return {
        row[2]: StockLevel.from_db(connection.alias, ["id", "store_id", "product_id", "on_hand", "reserved"], row)
        for row in rows
    }


def reserve_stock(*, store: Store, quantities: dict[int, int]) -> None:
    """Reserve `quantities` ({product_id: units}) at `store`, all or nothing."""
    if any(units < 1 for units in quantities.values()):
        raise ValueError("quantities must be positive")
    # No savepoint inside the caller's transaction (a checkout's): every shortfall is found
    # before anything is written and raised once the block is left, so there is nothing to undo
    # and the caller may go on (a split checkout checks its other parts). A database error (a
    # lock wait timed out) fails the caller's whole transaction, as every caller lets it.
    with transaction.atomic(savepoint=False):
        levels = _locked_levels(store=store, product_ids=quantities.keys())
        shortfalls = []
        for product_id, units in sorted(quantities.items()):
            level = levels.get(product_id)
            available = level.available if level else 0
            if units > available:
                shortfalls.append(Shortfall(product_id=product_id, requested=units, available=available))
        if not shortfalls:
            _add_reserved({levels[product_id].pk: units for product_id, units in quantities.items()})
            _stock_changed(store=store, product_ids=quantities)
    if shortfalls:
        raise InsufficientStock(shortfalls)


def _add_reserved(units_by_level: dict[int, int]) -> None:
    """Add units ({StockLevel pk: units}) to the reserved units of rows the caller has locked
    and found to have them available: one statement for every line, not one a line. Its WHERE
    holds each row to what was checked (the CheckConstraints guard it too), and a row it did not
    update fails the caller's transaction."""
    table = StockLevel._meta.db_table
    rows = sorted(units_by_level.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reserved = {table}.reserved + wanted.column2 "
            f"FROM (VALUES {', '.join(['(%s, %s)'] * len(rows))}) AS wanted "
            f"WHERE {table}.id = wanted.column1 AND {table}.on_hand - {table}.reserved >= wanted.column2",
            [value for row in rows for value in row],
        )
        updated = cursor.rowcount
    if updated != len(rows):
        raise StockError(f"reserved {updated} of {len(rows)} locked stock rows: a row changed under its lock")


def release_stock(*, store: Store, quantities: dict[int, int]) -> None:
    """Give reserved units back to sale (an order was cancelled)."""
    _take_from_reserved(store=store, quantities=quantities, also_from_on_hand=False)


def consume_reserved_stock(*, store: Store, quantities: dict[int, int]) -> None:
    """Reserved units left the store with the shopper: they are neither reserved nor on hand."""
    _take_from_reserved(store=store, quantities=quantities, also_from_on_hand=True)


def _take_from_reserved(*, store, quantities, also_from_on_hand):
    with transaction.atomic():
        levels = _locked_levels(store=store, product_ids=quantities.keys())
        for product_id, units in sorted(quantities.items()):
            level = levels.get(product_id)
            if level is None or level.reserved < units:
                raise StockError(f"store {store.pk} has fewer than {units} units of product {product_id} reserved")
            changes = {"reserved": F("reserved") - units}
            if also_from_on_hand:
                changes["on_hand"] = F("on_hand") - units
            StockLevel.objects.filter(pk=level.pk).update(**changes)
        _stock_changed(store=store, product_ids=quantities)


def send_reserved_stock(*, store: Store, quantities: dict[int, int]) -> None:
    """Reserved units left `store` in a transfer to another location (transfers.services): they
    are neither reserved nor on hand here any more, and not yet anywhere else (in transit).
    Raises StockError, changing nothing, when fewer than that are reserved."""
    _take_from_reserved(store=store, quantities=quantities, also_from_on_hand=True)


def receive_transferred_stock(*, store: Store, quantities: dict[int, int], reserve: bool) -> None:
    """Units a transfer brought to `store` go on hand there ({product_id: units}), and with
    `reserve` are reserved at once for the order waiting for them, so no other shopper can take
    them; without it (that order was cancelled on the way) they go on sale. Rows locked in pk
    order, missing rows created, F() updates. Raises ValueError for a count below 1."""
    if any(units < 1 for units in quantities.values()):
        raise ValueError("quantities must be positive")
    with transaction.atomic():
        StockLevel.objects.bulk_create(
            [StockLevel(store=store, product_id=product_id) for product_id in sorted(quantities)], ignore_conflicts=True
        )
        levels = _locked_levels(store=store, product_ids=quantities.keys())
        now = timezone.now()
        for product_id, units in sorted(quantities.items()):
            changes = {"on_hand": F("on_hand") + units, "updated_at": now}
            if reserve:
                changes["reserved"] = F("reserved") + units
            StockLevel.objects.filter(pk=levels[product_id].pk).update(**changes)
        _stock_changed(store=store, product_ids=quantities)


def restock_returned_units(*, store: Store, quantities: dict[int, int]) -> None:
    """Units a shopper brought back in sellable condition go on hand at `store` (the store they were
    returned at, whichever store sold them): rows locked in pk order, missing rows created, F()."""
    if any(units < 1 for units in quantities.values()):
        raise ValueError("quantities must be positive")
    with transaction.atomic():
        StockLevel.objects.bulk_create(
            [StockLevel(store=store, product_id=product_id) for product_id in sorted(quantities)], ignore_conflicts=True
        )
        levels = _locked_levels(store=store, product_ids=quantities.keys())
        for product_id, units in sorted(quantities.items()):
            StockLevel.objects.filter(pk=levels[product_id].pk).update(
                on_hand=F("on_hand") + units, updated_at=timezone.now()
            )
        _stock_changed(store=store, product_ids=quantities)


def exchange_units(*, store: Store, returned: dict[int, int], given: dict[int, int]) -> None:
    """An exchange at `store`'s counter, all or nothing: `returned` units ({product_id: units},
    resellable ones brought back) go on hand, `given` units leave with the shopper. Every row of
    both is locked in one statement in pk order (the same order checkouts lock in, so neither can
    deadlock the other); a product with fewer units for sale than given (units reserved for open
    orders are not for sale; units just brought back are) raises InsufficientStock naming every
    one, before anything changes. The constraints keep on hand at or above reserved."""
    if any(units < 1 for units in (*returned.values(), *given.values())):
        raise ValueError("quantities must be positive")
    with transaction.atomic():
        if returned:
            StockLevel.objects.bulk_create(
                [StockLevel(store=store, product_id=product_id) for product_id in sorted(returned)],
                ignore_conflicts=True,
            )
        levels = _locked_levels(store=store, product_ids=set(returned) | set(given))
        shortfalls = []
        for product_id, units in sorted(given.items()):
            level = levels.get(product_id)
            available = (level.available if level else 0) + returned.get(product_id, 0)
            if units > available:
                shortfalls.append(Shortfall(product_id=product_id, requested=units, available=available))
        if shortfalls:
            raise InsufficientStock(shortfalls)
        now = timezone.now()
        for product_id in sorted(set(returned) | set(given)):
            change = returned.get(product_id, 0) - given.get(product_id, 0)
            if change:
                StockLevel.objects.filter(pk=levels[product_id].pk).update(
                    on_hand=F("on_hand") + change, updated_at=now
                )
        _stock_changed(store=store, product_ids=set(returned) | set(given))


def check_count_covers_reserved(*, on_hand: int, reserved: int) -> None:
    """The rule for a stock count; the admin's form checks it too, so staff see it as a form error."""
    if on_hand < reserved:
        raise StockError(
            ngettext(
                "%(reserved)s unit is reserved for open orders; on hand cannot be less than that.",
                "%(reserved)s units are reserved for open orders; on hand cannot be less than that.",
                reserved,
            )
            % {"reserved": reserved}
        )


def products_with_variants(product_ids) -> dict[int, str]:
    """{product id: SKU} of those of `product_ids` that have variants (sizes, colours): such a
    product is never sold itself (a size is), so it holds no stock of its own. One query."""
    return dict(Product.objects.filter(pk__in=product_ids, variants__isnull=False).distinct().values_list("pk", "sku"))


def _refuse_units_of_products_with_variants(counts: dict[int, int]) -> None:
    """StockError when `counts` ({product id: units}) gives units to a product with variants.
    A count of 0 is allowed: it clears what was counted before the product got its sizes."""
    if styled := products_with_variants([product_id for product_id, units in counts.items() if units]):
        raise StockError(
            _("%(skus)s has sizes or other variants: count each variant's SKU instead.")
            % {"skus": ", ".join(sorted(styled.values()))}
        )


def set_on_hand(*, store: Store, product: Product, on_hand: int) -> StockLevel:
    """Record a stock count. Units reserved for open orders cannot be counted away.

    Raises StockError for a negative count, a count below the reserved units, or units of a
    product that has variants (its sizes hold the stock)."""
    if on_hand < 0:
        raise StockError(_("A stock count cannot be negative."))
    _refuse_units_of_products_with_variants({product.pk: on_hand})
    with transaction.atomic():
        level, _created = StockLevel.objects.select_for_update().get_or_create(store=store, product=product)
        check_count_covers_reserved(on_hand=on_hand, reserved=level.reserved)
        StockLevel.objects.filter(pk=level.pk).update(on_hand=on_hand, updated_at=timezone.now())
        _stock_changed(store=store, product_ids=[product.pk])
        level.refresh_from_db()
        return level


def record_opening_stock(*, store: Store, counts: dict[int, int]) -> int:
    """First counts ({product_id: on hand}) for products `store` has no stock record of yet.

    For a new store's opening delivery or a first stocktake import, many rows at once. Products
    that already have a count are left alone (changing a count is set_on_hand's job). Returns
    how many counts were recorded.
    """
    if any(units < 0 for units in counts.values()):
        raise StockError(_("A stock count cannot be negative."))
    _refuse_units_of_products_with_variants(counts)
    with transaction.atomic():
        known = set(StockLevel.objects.filter(store=store, product_id__in=counts).values_list("product_id", flat=True))
        new = [
            StockLevel(store=store, product_id=product_id, on_hand=units)
            for product_id, units in sorted(counts.items())
            if product_id not in known
        ]
        # A count recorded meanwhile by someone else wins; it is not overwritten.
        StockLevel.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        _stock_changed(store=store, product_ids=[level.product_id for level in new])
    return len(new)


# What a store manager may do in the admin, and nothing more: run their stores' orders and stock,
# keep their stores' opening hours (the week's and special dates) and pickup settings (curbside,
# slots, reminders, expiry) and delivery zones and windows, and look up the catalog. Which stores
# they see is decided by Store.managers, not by these.
STORE_MANAGER_GROUP = "Store managers"
STORE_MANAGER_PERMISSIONS = (
    ("orders", "view_order"),
    ("orders", "change_order"),
    ("orders", "view_orderline"),
    ("orders", "view_orderevent"),
    ("orders", "view_fulfilment"),
    ("orders", "view_notification"),
    ("pickup", "view_pickupcodeattempt"),
    # Unlock their stores' orders after wrong pickup codes, having checked the shopper's ID.
    ("pickup", "reset_pickup_code_lock"),
    ("stores", "view_stocklevel"),
    ("stores", "change_stocklevel"),
    ("stores", "view_store"),
    ("stores", "change_store"),
    ("stores", "view_openinghours"),
    ("stores", "add_openinghours"),
    ("stores", "change_openinghours"),
    ("stores", "delete_openinghours"),
    ("stores", "view_specialopeninghours"),
    ("stores", "add_specialopeninghours"),
    ("stores", "change_specialopeninghours"),
    ("stores", "delete_specialopeninghours"),
    ("pickup", "view_pickupsettings"),
    ("pickup", "add_pickupsettings"),
    ("pickup", "change_pickupsettings"),
    ("pickup", "view_curbsidevisit"),
    ("delivery", "view_deliveryzone"),
    ("delivery", "add_deliveryzone"),
    ("delivery", "change_deliveryzone"),
    ("delivery", "delete_deliveryzone"),
    ("delivery", "view_deliverywindow"),
    ("delivery", "add_deliverywindow"),
    ("delivery", "change_deliverywindow"),
    ("delivery", "delete_deliverywindow"),
    ("delivery", "view_delivery"),
    ("payment", "view_payment"),
    ("payment", "view_paymentevent"),
    ("payment", "view_refund"),
    ("payment", "add_refund"),
    ("catalog", "view_product"),
    ("catalog", "view_category"),
    ("payment", "view_receipt"),
    # Returns in any store (the returns app): take them back, see them, see store credit issued.
    ("returns", "view_return"),
    ("returns", "add_return"),
    ("returns", "view_storecredit"),
    # Ship to home from a warehouse (the shipping app): enter the carrier's tracking number.
    ("shipping", "view_shipment"),
    ("shipping", "change_shipment"),
    # E-mail consent (the campaigns app): record a shopper's consent given at the till, and see
    # the consents given in their stores.
    ("campaigns", "view_emailconsent"),
    ("campaigns", "add_emailconsent"),
    ("campaigns", "view_consentevent"),
    # Coupons at the till (the coupons app): scan a shopper's coupon, see their stores' redemptions.
    ("coupons", "view_redemption"),
    ("coupons", "add_redemption"),
    # Coupons of their own stores (restricted to them, never chain-wide: coupons/admin.py), their
    # shared codes and batches of single-use codes.
    ("coupons", "view_coupon"),
    ("coupons", "add_coupon"),
    ("coupons", "change_coupon"),
    ("coupons", "view_couponcode"),
    ("coupons", "add_couponcode"),
    ("coupons", "change_couponcode"),
    ("coupons", "delete_couponcode"),
    ("coupons", "view_couponbatch"),
    # Campaigns to the shoppers near their own stores, with their own coupons (campaigns/admin.py).
    ("campaigns", "view_campaign"),
    ("campaigns", "add_campaign"),
    ("campaigns", "change_campaign"),
    # Transfers out of and into their stores (the transfers app): pick, send, receive, cancel.
    ("transfers", "view_transfer"),
    ("transfers", "change_transfer"),
    # Rewards (the rewards app): members served at their stores, the till screen and the till's file.
    ("rewards", "view_rewardaccount"),
    ("rewards", "view_rewardentry"),
    ("rewards", "add_rewardentry"),
    ("transfers", "view_transferline"),
    ("transfers", "view_transferevent"),
    # The O2O dashboard (the analytics app): their stores' figures and the roll-up rows behind them.
    ("analytics", "view_dailystorefigures"),
)


def store_manager_group() -> Group:
    """The "Store managers" group with exactly STORE_MANAGER_PERMISSIONS; safe to call again."""
    permissions = _store_manager_permissions()
    if len(permissions) != len(STORE_MANAGER_PERMISSIONS):
        raise ImproperlyConfigured("store manager permissions are missing: run manage.py migrate first")
    with transaction.atomic():
        group, _created = Group.objects.get_or_create(name=STORE_MANAGER_GROUP)
        group.permissions.set(permissions)
    return group


def refresh_store_manager_group() -> bool:
    """Give an existing "Store managers" group today's STORE_MANAGER_PERMISSIONS (run after every
    migrate, so a release that changes them reaches the managers already set up). Does nothing
    while the group or one of the permissions does not exist yet."""
    group = Group.objects.filter(name=STORE_MANAGER_GROUP).first()
    permissions = _store_manager_permissions()
    if group is None or len(permissions) != len(STORE_MANAGER_PERMISSIONS):
        return False
    group.permissions.set(permissions)
    return True


def _store_manager_permissions() -> list[Permission]:
    wanted = Q()
    for app_label, codename in STORE_MANAGER_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(wanted))


def add_store_manager(*, store: Store, user: User) -> None:
    """Let `user` run `store` in the admin: staff, in the managers group, linked to the store."""
    with transaction.atomic():
        group = store_manager_group()
        store.managers.add(user)
        if not user.is_staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
        user.groups.add(group)
    _forget_cached_permissions(user)


def remove_store_manager(*, store: Store, user: User) -> None:
    """Take `store` away from `user`; with no store left they leave the managers group too."""
    with transaction.atomic():
        store.managers.remove(user)
        if not user.managed_stores.exists():
            user.groups.remove(*Group.objects.filter(name=STORE_MANAGER_GROUP))
    _forget_cached_permissions(user)


def _forget_cached_permissions(user):
    # ModelBackend caches permissions on the user object; the caller may keep using it.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


@dataclass(frozen=True)
class CountBelowReserved:
    store_id: int
    product_id: int
    on_hand: int
    reserved: int


class StockCountsRefused(StockError):
    """Counts that would leave fewer units on hand than are reserved; nothing was written."""

    def __init__(self, refused):
        self.refused = list(refused)
        super().__init__(
            ", ".join(f"store {r.store_id} product {r.product_id}: {r.on_hand} < {r.reserved}" for r in self.refused)
        )


def set_stock_counts(
    *,
    counts: dict[tuple[int, int], int],
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 500,
) -> tuple[int, int]:
    """A stocktake: {(store_id, product_id): on hand} for many rows at once, all or nothing.

    Existing rows are locked in primary-key order and checked against their reserved units
    (every count below reserved is reported at once in StockCountsRefused); then the counts are
    written in bulk and missing rows created. Returns (updated, created).
    """
    if any(units < 0 for units in counts.values()):
        raise StockError(_("A stock count cannot be negative."))
    units_per_product = {}
    for (_store_id, product_id), units in counts.items():
        units_per_product[product_id] = units_per_product.get(product_id, 0) + units
    _refuse_units_of_products_with_variants(units_per_product)
    store_ids = {store_id for store_id, _product_id in counts}
    product_ids = {product_id for _store_id, product_id in counts}
    with transaction.atomic():
        levels = {
            (level.store_id, level.product_id): level
            for level in StockLevel.objects.select_for_update(of=("self",))
            .filter(store_id__in=store_ids, product_id__in=product_ids)
            .order_by("pk")
            if (level.store_id, level.product_id) in counts
        }
        refused = [
            CountBelowReserved(store_id=key[0], product_id=key[1], on_hand=counts[key], reserved=level.reserved)
            for key, level in sorted(levels.items())
            if counts[key] < level.reserved
        ]
        if refused:
            raise StockCountsRefused(refused)
        now = timezone.now()
        changed = []
        for key, level in levels.items():
            level.on_hand, level.updated_at = counts[key], now
            changed.append(level)
        new = [
            StockLevel(store_id=store_id, product_id=product_id, on_hand=units)
            for (store_id, product_id), units in sorted(counts.items())
            if (store_id, product_id) not in levels
        ]
        write_in_batches(
            [
                (changed, partial(StockLevel.objects.bulk_update, fields=["on_hand", "updated_at"])),
                (new, StockLevel.objects.bulk_create),
            ],
            progress=progress,
            batch_size=batch_size,
        )
        for store_id in store_ids:
            stamps.bump(stamps.store_stock_key(store_id))
        stamps.bump(*(stamps.product_stock_key(product_id) for product_id in sorted(product_ids)))
    return len(changed), len(new)
