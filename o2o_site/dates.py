"""Dates and times: the one way a moment becomes text (pages, e-mails, messages), as `money` is for prices.

Each language writes them its own way, set in its formats module (o2o_site/formats/<language>/,
settings.FORMAT_MODULE_PATH), for 30 November 2026 at 11:54:

    kind             English                      Icelandic                        Norwegian
    date             30 November 2026             30. nóvember 2026                30. november 2026
    time             11:54                        11:54                            11:54
    datetime         30 November 2026, 11:54      30. nóvember 2026 kl. 11:54      30. november 2026 kl. 11:54
    weekday date     Monday 30 November           mánudagur 30. nóvember           mandag 30. november
    weekday datetime Monday 30 November, 11:54    mánudagur 30. nóvember kl. 11:54 mandag 30. november kl. 11:54

Every language uses the 24-hour clock, as the stores' opening hours do; and no format ends in a full
stop ("11:54 a.m."), so a sentence ending in one never ends in two. Icelandic and Norwegian write a
weekday in lower case inside a sentence: where one starts a line, the template capitalises it
(`|capfirst`).

A datetime is shown in the time zone given (a store's: `zone=store.zone` or a zone's name), or else in
the current one (a template's {% timezone %}); dates and times of day are shown as they are.
"""

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation

# The shop's own formats (not Django's), looked up in the same modules; these where a language has none.
DEFAULT_FORMATS = {
    "WEEKDAY_DATE_FORMAT": "l j F",
    "WEEKDAY_DATETIME_FORMAT": "l j F, H:i",
    "LOWERCASE_WEEKDAYS": False,
}


def _shop_format(name: str):
    for module in formats.get_format_modules(translation.get_language()):
        if hasattr(module, name):
            return getattr(module, name)
    return DEFAULT_FORMATS[name]


def _local(value, zone):
    """An aware datetime in `zone` (or the current time zone); anything else as it is. A datetime
    a template already put in a zone of its own ({{ at|timezone:store.time_zone }}) stays in it."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        return value
    if zone is None:
        if not getattr(value, "convert_to_local_time", True):
            return value
        zone = timezone.get_current_timezone()
    elif isinstance(zone, str):
        zone = ZoneInfo(zone)  # one instance per name (zoneinfo's cache)
    return value if value.tzinfo is zone else value.astimezone(zone)


def _format(value, format_name: str, zone) -> str:
    if value in (None, ""):
        return ""
    return formats.date_format(_local(value, zone), format_name)


def format_date(value, *, zone: datetime.tzinfo | str | None = None) -> str:
    """30 November 2026 / 30. nóvember 2026"""
    return _format(value, "DATE_FORMAT", zone)


def format_time(value, *, zone: datetime.tzinfo | str | None = None) -> str:
    """11:54 (of a datetime or a time of day)"""
    if value in (None, ""):
        return ""
    value, time_format = _local(value, zone), formats.get_format("TIME_FORMAT")
    if time_format == "H:i":
        # Every shop language's: the same text, written ten times faster than by Django's
        # formatter (the checkout's time pickers list hundreds of times).
        return f"{value:%H:%M}"
    return formats.time_format(value, time_format)


def format_datetime(value, *, zone: datetime.tzinfo | str | None = None) -> str:
    """30 November 2026, 11:54 / 30. nóvember 2026 kl. 11:54"""
    return _format(value, "DATETIME_FORMAT", zone)


def _weekday(value, format_name: str, zone) -> str:
    if value in (None, ""):
        return ""
    text = formats.date_format(_local(value, zone), _shop_format(format_name))
    if _shop_format("LOWERCASE_WEEKDAYS"):
        text = text[:1].lower() + text[1:]
    return text


def format_weekday_date(value, *, zone: datetime.tzinfo | str | None = None) -> str:
    """Monday 30 November / mánudagur 30. nóvember"""
    return _weekday(value, "WEEKDAY_DATE_FORMAT", zone)


def format_weekday_datetime(value, *, zone: datetime.tzinfo | str | None = None) -> str:
    """Monday 30 November, 11:54 / mánudagur 30. nóvember kl. 11:54"""
    return _weekday(value, "WEEKDAY_DATETIME_FORMAT", zone)


def format_time_range(start, end, *, zone: datetime.tzinfo | str | None = None) -> str:
    """11:30–12:00"""
    return f"{format_time(start, zone=zone)}–{format_time(end, zone=zone)}"


def time_range_formatter() -> Callable[[datetime.datetime, datetime.datetime], str]:
    """format_time_range for many ranges already in their zone, in the current language: the
    language's time format is looked up once, not twice per range (the checkout lists some 800
    pickup times: 1 720 look-ups were a tenth of its page)."""
    time_format = formats.get_format("TIME_FORMAT")
    if time_format == "H:i":
        return lambda start, end: f"{start.hour:02}:{start.minute:02}–{end.hour:02}:{end.minute:02}"
    return lambda start, end: f"{formats.time_format(start, time_format)}–{formats.time_format(end, time_format)}"
