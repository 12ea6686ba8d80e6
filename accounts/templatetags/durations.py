from django import template

register = template.Library()


@register.filter
def whole_minutes(duration) -> int:
    """A timedelta in whole minutes, rounded up: "wait 1 minute" is never said of 30 seconds left as 0."""
    return -(-int(duration.total_seconds()) // 60)
