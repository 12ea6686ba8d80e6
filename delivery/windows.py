"""The delivery windows a zone offers from now on, and how full they are.

Pure functions over plain values, so the delivery directory (delivery.selectors, from memory)
and the booking (delivery.services, from rows read in the checkout's transaction) lay the
windows out the same way: the store's windows for each weekday, in its own time zone, for the
zone's days ahead, none on the store's closed dates (stores.SpecialOpeningHours closed all day),
each offered until its cut-off and only when it starts at least the zone's lead time from now.
"""

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowRule:
    """A store's DeliveryWindow as plain values."""

    weekday: int
    starts: datetime.time
    ends: datetime.time
    cutoff: datetime.time
    capacity: int


@dataclass(frozen=True)
class Window:
    """One window on one date: aware datetimes (UTC) and the places it has."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime
    cutoff_at: datetime.datetime
    capacity: int
    booked: int = 0

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def key(self) -> str:
        """The value a form posts for this window: its start as an ISO 8601 UTC timestamp."""
        return window_key(self.starts_at)


def window_key(starts_at: datetime.datetime) -> str:
    return starts_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_window_key(value: str | None) -> datetime.datetime | None:
    try:
        parsed = datetime.datetime.strptime((value or "").strip(), "%Y-%m-%dT%H:%MZ")
    except ValueError:
        return None
    return parsed.replace(tzinfo=datetime.UTC)


def _aware(day: datetime.date, at: datetime.time, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=zone).astimezone(datetime.UTC)


def window_grid(
    *,
    rules: Iterable[WindowRule],
    zone: zoneinfo.ZoneInfo,
    closed: Iterable[datetime.date],
    lead_time: datetime.timedelta,
    days_ahead: int,
    now: datetime.datetime,
) -> list[Window]:
    """Every window a shopper may still book, earliest first, ignoring how full they are."""
    by_weekday: dict[int, list[WindowRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    closed = set(closed)
    today = now.astimezone(zone).date()
    earliest = now + lead_time
    found = []
    for offset in range(days_ahead):
        day = today + datetime.timedelta(days=offset)
        if day in closed:
            continue
        for rule in by_weekday.get(day.weekday(), ()):
            starts_at = _aware(day, rule.starts, zone)
            cutoff_at = _aware(day, rule.cutoff, zone)
            if now < cutoff_at and starts_at >= earliest:
                found.append(
                    Window(
                        starts_at=starts_at,
                        ends_at=_aware(day, rule.ends, zone),
                        cutoff_at=cutoff_at,
                        capacity=rule.capacity,
                    )
                )
    return sorted(found, key=lambda window: (window.starts_at, window.ends_at))


def booked_in(window: Window, bookings: Iterable[tuple[datetime.datetime, datetime.datetime, int]]) -> int:
    """The deliveries whose window overlaps `window`: (start, end, count) of the store's bookings.

    Overlap, not the same start: a window changed under booked orders (17:00-19:00 made
    17:30-19:30) still counts the van's orders of the old one."""
    return sum(
        count for starts_at, ends_at, count in bookings if starts_at < window.ends_at and ends_at > window.starts_at
    )


def with_bookings(
    windows: Iterable[Window], bookings: Iterable[tuple[datetime.datetime, datetime.datetime, int]]
) -> list[Window]:
    bookings = list(bookings)
    return [
        Window(
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            cutoff_at=window.cutoff_at,
            capacity=window.capacity,
            booked=booked_in(window, bookings),
        )
        for window in windows
    ]


def days_offered(
    *, days_ahead: int, zone: zoneinfo.ZoneInfo, now: datetime.datetime
) -> tuple[datetime.date, datetime.date]:
    """The first and last local date a zone offers windows on."""
    today = now.astimezone(zone).date()
    return today, today + datetime.timedelta(days=days_ahead - 1)
