"""Money in the admin, through the one path (o2o_site.money.format_money).

Django shows a DecimalField in a change list or a read-only field as the bare number ("990.00");
every amount a manager reads is money in a currency, so the admin shows it as the shop does
everywhere else ("990 kr." in Icelandic, "ISK 990" in English). A guard test
(o2o_site/tests/test_admin_money.py) fails when a registered admin lists a money field bare.
An amount a manager types (a fee, a minimum order) is an AmountField (AmountFieldsAdmin).
"""

from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.text import capfirst

from .money import AmountField, format_money


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


class AmountFieldsAdmin:
    """ModelAdmin mixin: the model's money columns named in `amount_fields` are typed as an
    AmountField (read as people write amounts, nothing finer than the currency's minor unit, said
    with too_many_decimals; never negative), not as a plain DecimalField that takes 10.5 krónur and
    keeps it."""

    amount_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name not in self.amount_fields:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return AmountField(
            label=capfirst(db_field.verbose_name),
            required=not db_field.blank,
            help_text=db_field.help_text,
            initial=db_field.default if db_field.has_default() else None,
            min_value=Decimal(0),
            max_digits=db_field.max_digits,
            widget=forms.NumberInput(attrs={"step": "any", "class": "vDecimalField"}),
        )
