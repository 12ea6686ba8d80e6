"""Money in the admin goes through the one path (o2o_site.admin_money.money_display): no
registered admin lists, or shows read-only, a money field as the bare number ("990.00")."""

from django.contrib import admin
from django.db import models

# Decimal fields with two decimal places that are not money, each with why.
NOT_MONEY = {
    "points",  # rewards: points, not a currency
    "balance_after",  # rewards: points
    "vat_rate",  # per cent (o2o_site.vat.format_rate)
    "radius_km",  # a distance
}


def bare_money_fields(model, names):
    for name in names:
        if not isinstance(name, str):
            continue
        try:
            field = model._meta.get_field(name)
        except Exception:  # a method or an admin attribute, not a field
            continue
        if isinstance(field, models.DecimalField) and field.decimal_places == 2 and name not in NOT_MONEY:
            yield name


def test_no_admin_shows_a_money_field_as_a_bare_number():
    found = []
    for model, model_admin in admin.site._registry.items():
        names = [*model_admin.list_display, *model_admin.readonly_fields]
        found += [f"{type(model_admin).__name__}.{name}" for name in bare_money_fields(model, names)]
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            found += [
                f"{inline_class.__name__}.{name}" for name in bare_money_fields(inline.model, inline.readonly_fields)
            ]
    assert found == []
