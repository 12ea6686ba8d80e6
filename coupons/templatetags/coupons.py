"""{% coupon_qr code %}: a coupon code as a QR code (inline SVG, drawn by segno), for a shopper
to show at the till, where staff scan it into the till page."""

import segno
from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def coupon_qr(code: str, scale: int = 4) -> str:
    """An inline SVG of `code` (as stored, normalised) as a QR code; "" for no code. The SVG has
    no inline style (the shop's CSP allows none) and a title for screen readers."""
    if not code:
        return ""
    svg = segno.make(str(code), error="m").svg_inline(scale=scale, title=str(code))
    return mark_safe(svg)  # noqa: S308 — segno's own markup of a normalised [A-Z0-9] code
