"""The shopper's cart, kept in the session so guests can shop without an account."""

from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from weakref import WeakKeyDictionary

from catalog.models import Product
from catalog.selectors import products_for_sale
from o2o_site.cache import stamps
from o2o_site.cache.pages import CART_SESSION_KEY
from o2o_site.money import round_to_minor_unit

# One key for the cart in the session, declared where the page cache (a lower layer) reads it.
SESSION_KEY = CART_SESSION_KEY

# {session: {product id: whether it is for sale}} as this request's cart pages read their lines:
# the header's count then needs no query of its own (Cart.units_for_sale). Gone with the request.
_read_for_sale: "WeakKeyDictionary[object, dict[int, bool]]" = WeakKeyDictionary()


@dataclass
class CartLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        """The price as shown, in the shop currency's minor unit: what the line is charged from."""
        return round_to_minor_unit(self.product.price)

    @property
    def line_total(self) -> Decimal:
        # From the shown unit price, so the lines shown add up to the total shown.
        return self.unit_price * self.quantity


class Cart:
    def __init__(self, session):
        self.session = session
        raw = session.get(SESSION_KEY) or {}
        # Session data is JSON: keys are strings. Anything malformed is dropped, not trusted.
        self._quantities = {}
        for key, value in raw.items():
            try:
                product_id, quantity = int(key), int(value)
            except (TypeError, ValueError):
                continue
            if quantity >= 1:
                self._quantities[product_id] = quantity

    def _save(self):
        self.session[SESSION_KEY] = {str(pk): qty for pk, qty in self._quantities.items()}
        self.session.modified = True

    @property
    def quantities(self) -> dict[int, int]:
        return dict(self._quantities)

    def quantity_of(self, product_id) -> int:
        return self._quantities.get(product_id, 0)

    def set(self, product_id: int, quantity: int) -> None:
        if quantity < 1:
            self._quantities.pop(product_id, None)
        else:
            self._quantities[product_id] = quantity
        self._save()

    def remove(self, product_id: int) -> None:
        self.set(product_id, 0)

    def clear(self) -> None:
        self._quantities = {}
        self._save()

    def __len__(self):
        return sum(self._quantities.values())

    def __bool__(self):
        return bool(self._quantities)

    def lines(self) -> list[CartLine]:
        """Lines with their products (one query); products no longer sold are left out."""
        # With their products: a variant's page is its product's (Product.get_absolute_url).
        products = products_for_sale(self._quantities)
        self._remember_for_sale({pk: pk in products for pk in self._quantities})
        return [
            CartLine(product=products[pk], quantity=qty)
            for pk, qty in sorted(self._quantities.items())
            if pk in products
        ]

    def lines_of(self, products: dict[int, Product]) -> list[CartLine]:
        """The lines from `products` ({pk: Product}, every product of the cart, all for sale)
        just read elsewhere (a refused placing's): no query."""
        self._remember_for_sale(dict.fromkeys(self._quantities, True))
        return [CartLine(product=products[pk], quantity=qty) for pk, qty in sorted(self._quantities.items())]

    def lines_and_withdrawn(self) -> tuple[list[CartLine], list[CartLine]]:
        """The lines still sold, and the lines whose products were taken out of the catalog (one
        query); products deleted altogether are in neither."""
        products = Product.objects.select_related("parent").in_bulk(list(self._quantities))
        found = sorted((pk, qty) for pk, qty in self._quantities.items() if pk in products)
        lines = [CartLine(product=products[pk], quantity=qty) for pk, qty in found]
        self._remember_for_sale({pk: pk in products and products[pk].is_for_sale for pk in self._quantities})
        sold = [line for line in lines if line.product.is_for_sale]
        return sold, [line for line in lines if not line.product.is_for_sale]

    @staticmethod
    def total(lines) -> Decimal:
        return sum((line.line_total for line in lines), Decimal("0"))

    def units_for_sale(self) -> int:
        """The units the cart page would show: products deactivated, or deleted, since they were
        put in are not counted (the page takes them out); sold-out ones are (the page shows them,
        saying how many are left). One query of ids per catalog stamp and set of products in
        this process, none for an empty cart."""
        if not self._quantities:
            return 0
        known = _read_for_sale.get(self.session, {})
        if not known.keys() >= self._quantities.keys():
            known = dict.fromkeys(_for_sale(frozenset(self._quantities)), True)
        return sum(quantity for pk, quantity in self._quantities.items() if known.get(pk))

    def _remember_for_sale(self, for_sale: dict[int, bool]) -> None:
        # A plain dict as the session (a test's) cannot be weakly referenced: nothing remembered.
        with suppress(TypeError):
            _read_for_sale.setdefault(self.session, {}).update(for_sale)


# {(catalog stamp, the cart's product ids): those of them for sale}: what is for sale changes only
# with the catalog (catalog.services.catalog_changed stamps it), so a shopper's cart counted once
# is counted again with no query on every page they see until it changes: the page's own stamps
# read answers the stamp (o2o_site.cache.stamps.versions, once a request).
_for_sale_by_stamp: dict[tuple[str, frozenset[int]], frozenset[int]] = {}
FOR_SALE_KEPT = 10_000


def _for_sale(product_ids: frozenset[int]) -> frozenset[int]:
    key = (stamps.versions(stamps.CATALOG)[stamps.CATALOG], product_ids)
    found = _for_sale_by_stamp.get(key)
    if found is None:
        found = frozenset(Product.objects.for_sale().filter(pk__in=list(product_ids)).values_list("pk", flat=True))
        if len(_for_sale_by_stamp) >= FOR_SALE_KEPT:
            _for_sale_by_stamp.clear()
        _for_sale_by_stamp[key] = found
    return found


class CartCountMiddleware:
    """Gives each request `cart_item_count()`, the header's "Cart (n items)" as /cart/ would
    count it, for the page cache's nav (o2o_site.cache.pages.site_nav, a lower layer that cannot
    import the cart). Nothing is read until a page shows the nav."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.cart_item_count = partial(units_for_sale, request)
        return self.get_response(request)


def units_for_sale(request) -> int:
    """The header's cart count for this request, read when called: after the view, which may
    have changed the cart."""
    return Cart(request.session).units_for_sale()
