"""When a store is open on a given date: its week's hours (OpeningHours), unless a special date
(SpecialOpeningHours: a public holiday, stock-taking) says otherwise. The store page's "open
until 19:00" / "opens tomorrow at 10:00" and pickup's time slots (pickup.slots.slot_grid) both
read the day's hours from here, so a closure closes both."""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import OpeningHours, SpecialOpeningHours, Store

# How far ahead the store page looks for the next opening (a closure can last a while).
NEXT_OPENING_HORIZON_DAYS = 14


def specials_by_date(specials: Iterable[SpecialOpeningHours]) -> dict[datetime.date, SpecialOpeningHours]:
    return {special.date: special for special in specials}


def hours_on(
    day: datetime.date,
    weekly: Iterable[OpeningHours],
    specials: Mapping[datetime.date, SpecialOpeningHours],
) -> list[tuple[datetime.time, datetime.time]]:
    """(opens, closes) intervals of local wall-clock time on `day`, earliest first; empty: closed."""
    special = specials.get(day)
    if special is not None:
        return [] if special.is_closed else [(special.opens, special.closes)]
    return sorted((interval.opens, interval.closes) for interval in weekly if interval.weekday == day.weekday())


@dataclass(frozen=True)
class OpeningStatus:
    """Where the store stands at a moment, in its own time zone."""

    is_open: bool
    closes_at: datetime.time | None = None  # while open
    opens_on: datetime.date | None = None  # while closed: the next opening, if any in the horizon
    opens_at: datetime.time | None = None
    days_until_opening: int | None = None  # 0 today, 1 tomorrow
    today_special: SpecialOpeningHours | None = None


def opening_status(
    store: Store,
    *,
    now: datetime.datetime,
    weekly: Iterable[OpeningHours],
    specials: Mapping[datetime.date, SpecialOpeningHours],
) -> OpeningStatus:
    local = store.local_now(now)
    today, at = local.date(), local.time()
    weekly = list(weekly)
    special = specials.get(today)
    for opens, closes in hours_on(today, weekly, specials):
        if opens <= at < closes:
            return OpeningStatus(is_open=True, closes_at=closes, today_special=special)
    for offset in range(NEXT_OPENING_HORIZON_DAYS + 1):
        day = today + datetime.timedelta(days=offset)
        for opens, _closes in hours_on(day, weekly, specials):
            if offset > 0 or opens > at:
                return OpeningStatus(
                    is_open=False, opens_on=day, opens_at=opens, days_until_opening=offset, today_special=special
                )
    return OpeningStatus(is_open=False, today_special=special)
