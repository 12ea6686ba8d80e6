from django.utils.functional import SimpleLazyObject

from .selectors import my_store as selected_store


def my_store(request):
    # Lazy: pages that never show the shopper's store pay no query for it.
    return {"my_store": SimpleLazyObject(lambda: selected_store(request))}
