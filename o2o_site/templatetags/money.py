from django import template

from o2o_site.money import format_money

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency=None):
    """{{ product.price|money }} or {{ order.total|money:order.currency }}"""
    return format_money(amount, currency or None)
