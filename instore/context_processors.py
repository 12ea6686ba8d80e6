from django.http import HttpRequest

from .context import current_context


def in_store(request: HttpRequest) -> dict:
    """`in_store`: the in-store context (instore.context.InStoreContext) or None; the banner names
    its store from `my_store`, which is the same store (no query of its own)."""
    return {"in_store": current_context(request) if hasattr(request, "session") else None}
