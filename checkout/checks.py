"""System checks of the checkout app (registered in CheckoutConfig.ready, run at start-up)."""

from django.conf import settings
from django.core.checks import Error
from django.utils.module_loading import import_string


def check_order_page_panels(app_configs=None, **kwargs) -> list[Error]:
    """Every path in O2O_ORDER_PAGE_PANELS imports to a callable: a part of the order page that
    cannot be built stops the shop from starting, not a shopper's order page later."""
    errors = []
    for path in getattr(settings, "O2O_ORDER_PAGE_PANELS", []):
        try:
            panel = import_string(path)
        except ImportError as error:
            errors.append(
                Error(f"O2O_ORDER_PAGE_PANELS names {path!r}, which does not import: {error}", id="checkout.E001")
            )
            continue
        if not callable(panel):
            errors.append(Error(f"O2O_ORDER_PAGE_PANELS names {path!r}, which is not callable.", id="checkout.E001"))
    return errors
