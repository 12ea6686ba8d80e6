"""Importing the postcode → coordinates table that "stores near me" looks postcodes up in.

An import is all or nothing: every row is checked before anything is written, and one bad row
(a missing value, a number that is not a number, a latitude of 640, the same postcode twice)
rejects the whole file with every problem listed (o2o_site.csv_import.ImportRejected), so a
half-imported table never reaches shoppers. A good file is upserted in one transaction: new
postcodes are added, known ones get the file's place name and coordinates; postcodes missing
from the file are left alone.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from o2o_site.cache import stamps
from o2o_site.csv_import import (
    ImportRejected,
    RowError,
    decode_csv,
    extra_values_problem,
    read_csv,
    write_in_batches,
)

from .models import PostcodeLocation

COLUMNS = ("country", "postcode", "place_name", "latitude", "longitude")
REQUIRED_COLUMNS = ("country", "postcode", "latitude", "longitude")
COORDINATE_PLACES = Decimal("0.000001")
PLACE_NAME_MAX_LENGTH = PostcodeLocation._meta.get_field("place_name").max_length

# Countries whose postcode format we know; a spreadsheet that dropped Oslo's leading zero
# ("150" for "0150") is caught here instead of placing shoppers in the wrong district.
POSTCODE_FORMATS = {
    "IS": re.compile(r"\d{3}"),
    "NO": re.compile(r"\d{4}"),
}
ANY_POSTCODE = re.compile(r"[A-Z0-9-]{2,16}")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self):
        return self.created + self.updated + self.unchanged


def normalise_postcode(value: str) -> str:
    """The form postcodes are stored and looked up in (stores.selectors.locate_postcode)."""
    return (value or "").strip().replace(" ", "").upper()


def _coordinate(raw, *, name, limit, problems):
    try:
        value = Decimal((raw or "").strip().replace(",", "."))
    except InvalidOperation:
        problems.append(_("%(name)s %(value)r is not a number") % {"name": name, "value": raw})
        return None
    if not value.is_finite() or not -limit <= value <= limit:
        problems.append(
            _("%(name)s %(value)s is outside -%(limit)s…%(limit)s") % {"name": name, "value": raw, "limit": limit}
        )
        return None
    return value.quantize(COORDINATE_PLACES)


def _checked_row(row: Mapping) -> tuple[dict | None, list[str]]:
    """The row as model field values, or None with the reasons it cannot be imported."""
    problems = extra_values_problem(row)
    missing = [column for column in REQUIRED_COLUMNS if not (row.get(column) or "").strip()]
    if missing:
        problems.append(_("missing %(columns)s") % {"columns": ", ".join(missing)})
        return None, problems

    country = row["country"].strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(_("country %(value)r is not a two-letter ISO code") % {"value": row["country"]})
    postcode = normalise_postcode(row["postcode"])
    if not POSTCODE_FORMATS.get(country, ANY_POSTCODE).fullmatch(postcode):
        problems.append(
            _("postcode %(value)r is not a valid postcode for %(country)s")
            % {"value": row["postcode"], "country": country}
        )
    place_name = (row.get("place_name") or "").strip()
    if len(place_name) > PLACE_NAME_MAX_LENGTH:
        problems.append(_("place name is longer than %(max)s characters") % {"max": PLACE_NAME_MAX_LENGTH})
    latitude = _coordinate(row["latitude"], name=_("latitude"), limit=90, problems=problems)
    longitude = _coordinate(row["longitude"], name=_("longitude"), limit=180, problems=problems)
    if problems:
        return None, problems
    return {
        "country": country,
        "postcode": postcode,
        "place_name": place_name,
        "latitude": latitude,
        "longitude": longitude,
    }, []


def validate_postcode_rows(rows: Iterable[Mapping], *, start_line=2) -> list[dict]:
    """Every row checked; returns them as field values or raises with all the bad rows at once.

    Rows are numbered from `start_line` (2: the first line after a CSV header).
    """
    errors, checked, first_seen = [], [], {}
    for index, row in enumerate(rows, start=start_line):
        line = getattr(row, "line", index)  # read_csv's CsvRow knows its line in the file
        values, problems = _checked_row(row)
        key = ((row.get("country") or "").strip().upper(), normalise_postcode(row.get("postcode")))
        if all(key):
            if key in first_seen:
                problems.append(
                    _("%(country)s %(postcode)s appears twice (first on line %(first)s)")
                    % {"country": key[0], "postcode": key[1], "first": first_seen[key]}
                )
            else:
                first_seen[key] = line
        errors.extend(RowError(line=line, message=problem) for problem in problems)
        if not problems:
            checked.append(values)
    if errors:
        raise ImportRejected(errors)
    return checked


def import_postcodes(*, rows: Iterable[Mapping], start_line=2, progress=None) -> ImportResult:
    """Validate every row, then upsert them all in one transaction (or raise and write nothing).

    `progress(done, total)` is called as batches are written (the command's progress line).
    """
    checked = validate_postcode_rows(rows, start_line=start_line)
    with transaction.atomic():
        countries = {values["country"] for values in checked}
        existing = {
            (location.country, location.postcode): location
            for location in PostcodeLocation.objects.select_for_update().filter(country__in=countries)
        }
        new, changed, unchanged = [], [], 0
        for values in checked:
            location = existing.get((values["country"], values["postcode"]))
            if location is None:
                new.append(PostcodeLocation(**values))
            elif (location.place_name, location.latitude, location.longitude) != (
                values["place_name"],
                values["latitude"],
                values["longitude"],
            ):
                location.place_name = values["place_name"]
                location.latitude = values["latitude"]
                location.longitude = values["longitude"]
                changed.append(location)
            else:
                unchanged += 1
        write_in_batches(
            [
                # A postcode another import added meanwhile is updated rather than failing the file.
                (
                    new,
                    partial(
                        PostcodeLocation.objects.bulk_create,
                        update_conflicts=True,
                        unique_fields=["country", "postcode"],
                        update_fields=["place_name", "latitude", "longitude"],
                    ),
                ),
                (
                    changed,
                    partial(PostcodeLocation.objects.bulk_update, fields=["place_name", "latitude", "longitude"]),
                ),
            ],
            progress=progress,
        )
        # The delivery directory (delivery.selectors) keeps the table in memory: read it again.
        stamps.bump(stamps.POSTCODES)
    return ImportResult(created=len(new), updated=len(changed), unchanged=unchanged)


def import_postcode_file(*, path: str | Path, progress=None) -> ImportResult:
    """Import a UTF-8 CSV file with the header country,postcode,place_name,latitude,longitude."""
    text = decode_csv(Path(path).read_bytes())
    return import_postcodes(rows=read_csv(text, required=REQUIRED_COLUMNS), progress=progress)
