from functools import partial

from .cart import units_for_sale


def cart_summary(request):
    """The header's cart count, as /cart/ would count it: a callable, so the template reads it
    only where it shows the nav (a shared page's nav is filled in by o2o_site.cache.pages)."""
    return {"cart_item_count": partial(units_for_sale, request)} if hasattr(request, "session") else {}
