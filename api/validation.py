"""A request that is not valid, answered per field in the request's language (Accept-Language).

pydantic words its messages in English only; each error has a type ("int_parsing",
"less_than_equal"…) and its limits in `ctx`, so the message is written here from those, through
gettext. A type not listed keeps pydantic's English rather than saying nothing."""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

# pydantic error type -> the message, formatted with the error's ctx (its limits).
MESSAGES = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not allowed here."),
    "int_parsing": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "float_parsing": _("Enter a number."),
    "float_type": _("Enter a number."),
    "decimal_parsing": _("Enter a number."),
    "decimal_type": _("Enter a number."),
    "bool_parsing": _("Enter true or false."),
    "bool_type": _("Enter true or false."),
    "string_type": _("Enter text."),
    "list_type": _("Enter a list."),
    "dict_type": _("Enter an object."),
    "model_type": _("Enter an object."),
    "model_attributes_type": _("Enter an object."),
    "greater_than_equal": _("Enter a number of at least %(ge)s."),
    "greater_than": _("Enter a number greater than %(gt)s."),
    "less_than_equal": _("Enter a number of at most %(le)s."),
    "less_than": _("Enter a number less than %(lt)s."),
    "string_too_short": _("Enter at least %(min_length)s characters."),
    "string_too_long": _("Enter at most %(max_length)s characters."),
    "too_short": _("Give at least %(min_length)s items."),
    "too_long": _("Give at most %(max_length)s items."),
    "literal_error": _("Enter one of %(expected)s."),
    "enum": _("Enter one of %(expected)s."),
    "string_pattern_mismatch": _("This is not in the expected form."),
    "date_parsing": _("Enter a date such as 2026-12-24."),
    "date_from_datetime_parsing": _("Enter a date such as 2026-12-24."),
    "datetime_parsing": _("Enter a date and time such as 2026-12-24T18:00:00Z."),
    "datetime_from_date_parsing": _("Enter a date and time such as 2026-12-24T18:00:00Z."),
    "uuid_parsing": _("Enter a UUID."),
    "json_invalid": _("The request body is not valid JSON."),
}
# Our own validators raise ValueError with a message already in the request's language.
VALUE_ERROR_PREFIX = "Value error, "


def message_of(error: dict) -> str:
    """The error's message in the active language."""
    kind = error.get("type", "")
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", ""))
        return message.removeprefix(VALUE_ERROR_PREFIX).removeprefix("Assertion failed, ")
    template = MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % {key: value for key, value in (error.get("ctx") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


def field_of(loc: Iterable) -> str:
    """The field as the client sent it ("lines.0.quantity", "postcode"): without where django-ninja
    found it ("body", "query", "path") nor, for a body, the view's parameter name it parsed it
    into ("cart", "checkout"), which are no part of the request."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


class FieldErrors(Exception):
    """A request refused for what is in its fields, each {"field", "message"} with the field named
    as the client sent it: answered 422 with them in `errors` (api.api), as pydantic's are."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{error['field']}: {error['message']}" for error in errors))
