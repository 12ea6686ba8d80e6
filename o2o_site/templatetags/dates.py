"""{{ order.created_at|local_datetime }}: dates and times through o2o_site.dates, the one path.

Datetimes are shown in the current time zone: wrap a store's times in {% timezone store.time_zone %}.
"""

from django import template

from o2o_site import dates

register = template.Library()


@register.filter(expects_localtime=True)
def local_date(value):
    """30 November 2026 / 30. nóvember 2026"""
    return dates.format_date(value)


@register.filter(expects_localtime=True)
def local_time(value):
    """11:54"""
    return dates.format_time(value)


@register.filter(expects_localtime=True)
def local_datetime(value):
    """30 November 2026, 11:54 / 30. nóvember 2026 kl. 11:54"""
    return dates.format_datetime(value)


@register.filter(expects_localtime=True)
def weekday_date(value):
    """Monday 30 November / mánudagur 30. nóvember (|capfirst where it starts a line)"""
    return dates.format_weekday_date(value)


@register.filter(expects_localtime=True)
def weekday_datetime(value):
    """Monday 30 November, 11:54 / mánudagur 30. nóvember kl. 11:54"""
    return dates.format_weekday_datetime(value)


@register.filter(expects_localtime=True)
def time_range(start, end):
    """{{ slot.start|time_range:slot.end }}: 11:30–12:00"""
    return dates.format_time_range(start, end)
