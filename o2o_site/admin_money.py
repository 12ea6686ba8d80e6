"""Money in the admin, through the one path (o2o_site.money.format_money).

Django shows a DecimalField in a change list or a read-only field as the bare number ("990.00");
every amount a manager reads is money in a currency, so the admin shows it as the shop does
everywhere else ("990 kr." in Icelandic, "ISK 990" in English). A guard test
(o2o_site/tests/test_admin_money.py) fails when a registered admin lists a money field bare.
"""

from collections.abc import Callable

from django.contrib import admin

from .money import format_money


def money_display(model, field: str, *, currency_field: str | None = None) -> Callable:
    """A list_display / readonly_fields entry showing `model`'s `field` (a Decimal amount) as
    money: in the currency named by the object's `currency_field` when given, else the shop's
    (settings.SHOP_CURRENCY); titled with the field's verbose name and sortable by it."""

    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def shown(obj) -> str:
        currency = getattr(obj, currency_field) if currency_field else None
        return format_money(getattr(obj, field), currency)

    shown.__name__ = f"{field}_money"
    shown.__qualname__ = shown.__name__
    return shown
