"""What a shopper's address carries, fit for the database: no NUL, no other control characters.

PostgreSQL's text cannot hold NUL (0x00): a search, a category, a postcode or a SKU with one
would be a DataError, a 500 for a stray byte. No shopper means a control character, so every
storefront view that reads its address is wrapped in `shopper_input`, which drops them from the
query string's names and values and from the path's text before the view sees them; a tab or a
line break is a space, so the words either side of it stay apart.
"""

import re
from functools import wraps

from django.http import QueryDict

_SPACES = re.compile(r"[\t\n\v\f\r]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def without_control_characters(text: str) -> str:
    return _CONTROL_CHARACTERS.sub("", _SPACES.sub(" ", text))


def _cleaned_query(query: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    for name, values in query.lists():
        for value in values:
            cleaned.appendlist(without_control_characters(name), without_control_characters(value))
    cleaned._mutable = False
    return cleaned


def shopper_input(view):
    """`view` with request.GET and the path's text arguments free of control characters."""

    @wraps(view)
    def cleaned_view(request, *args, **kwargs):
        request.GET = _cleaned_query(request.GET)
        kwargs = {
            name: without_control_characters(value) if isinstance(value, str) else value
            for name, value in kwargs.items()
        }
        return view(request, *args, **kwargs)

    return cleaned_view
