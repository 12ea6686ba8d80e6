"""What every all-or-nothing CSV import shares: the catalog, stock counts and the postcode table.

A file is decoded as UTF-8 (a byte-order mark is fine), its header checked, and each row
validated before anything is written; problems are collected per line so the whole file is
rejected at once with every reason. A good file is written in one transaction, in batches that
report their progress; CsvImportCommand is the management command around it (import_catalog,
import_stock, import_postcodes), with a progress line on the terminal.
"""

import csv
import io
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from .checks import PROCESS_LOCAL_CACHES

BATCH_SIZE = 500


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self):
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class ImportRejected(Exception):
    """The file was rejected; `errors` lists every bad row. Nothing was written."""

    def __init__(self, errors: Iterable[RowError]):
        self.errors = sorted(errors, key=lambda error: error.line)
        super().__init__("; ".join(str(error) for error in self.errors))


def decode_csv(data: bytes) -> str:
    """The file as text: UTF-8 (a byte-order mark is allowed), else an error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRejected(
            [
                RowError(
                    line=line,
                    message=_("byte 0x%(byte)02x is not UTF-8; save the file as UTF-8") % {"byte": data[error.start]},
                )
            ]
        ) from error


class CsvRow(dict):
    """A row of a CSV file keyed by the header, with `line`: the file's line it starts on (the
    header is line 1). Blank lines, which csv skips, and values quoted over several lines are
    counted, so an error names the line an editor shows. `delimiter`: the file's separator, which
    tells whether a comma in a number can be its decimal mark (read_decimal)."""

    line: int
    delimiter: str = ","


class _CountedLines:
    """The text's lines for csv.reader, remembering the number of each line it hands out."""

    def __init__(self, text: str):
        self._lines = iter(io.StringIO(text))
        self.count = 0
        self.taken: list[tuple[int, str]] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        self.taken.append((self.count, line))
        return line


def read_csv(text: str, *, required: Iterable[str]) -> list[CsvRow]:
    """Rows of a CSV text as CsvRows keyed by the (stripped, lower-case) header, each with the
    line it starts on; the header must have `required`, else ImportRejected (line 1). Rows with
    nothing but separators are skipped as blank lines are.

    Values are separated by commas, or by semicolons when the header is: Excel saves "CSV" so
    where the decimal mark is a comma (Iceland, Norway), and a manager should not have to know."""
    lines = _CountedLines(text)
    delimiter = _delimiter(text, required=required)
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in required if column not in header]
    if missing:
        raise ImportRejected(
            [RowError(line=1, message=_("the header lacks %(columns)s") % {"columns": ", ".join(missing)})]
        )
    reader.fieldnames = header
    rows = []
    while True:
        lines.taken.clear()
        try:
            values = next(reader)
        except StopIteration:
            return rows
        if _all_empty(values):
            # Only separators (";;", ",,"): Excel writes them for formatted rows left empty. Such a
            # row is a blank line, which csv skips, not a row missing every value.
            continue
        row = CsvRow(values)
        # The first line csv took for this row that is not blank (it skips blank lines).
        row.line = next((number for number, line in lines.taken if line.strip("\r\n")), lines.count)
        row.delimiter = delimiter
        rows.append(row)


def _all_empty(values: dict) -> bool:
    """Whether every value of a csv.DictReader row is blank, those past the header (a list under
    the key None) included."""
    texts = [value for key, value in values.items() if key is not None] + list(values.get(None) or [])
    return not any((text or "").strip() for text in texts)


def _delimiter(text: str, *, required: Iterable[str]) -> str:
    """ ";" when the header is separated by semicolons (it has no comma, or names every required
    column between semicolons), else ","."""
    header = text.split("\n", 1)[0]
    if ";" not in header:
        return ","
    names = {name.strip().lower() for name in next(csv.reader([header], delimiter=";"), [])}
    return ";" if "," not in header or set(required) <= names else ","


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def read_decimal(text: str, *, row: Mapping) -> Decimal:
    """The number in `text`, "249.90"; in a file separated by ';' also "249,90": Excel saves
    "CSV" with semicolons where the comma is the decimal mark (Iceland, Norway), and writes its
    decimals so. In a file separated by ',' a comma is never read as one: it could as well group
    thousands. Raises InvalidOperation when `text` is not a number (so "1.234,50", grouped)."""
    text = text.strip()
    if getattr(row, "delimiter", ",") == ";" and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    return Decimal(text)


# Yes and no in the shop's languages (is, nb) as well as English, and Excel's TRUE and FALSE in
# each of them, as its "CSV" writes a cell holding one.
YES_WORDS = frozenset({"1", "true", "yes", "y", "já", "ja", "satt", "sann"})
NO_WORDS = frozenset({"0", "false", "no", "n", "nei", "ósatt", "usann"})


def read_yes_no(text: str) -> bool | None:
    """True or False for a yes/no value of YES_WORDS or NO_WORDS (case and spaces aside), None for
    anything else."""
    word = unicodedata.normalize("NFC", text or "").strip().lower()
    return True if word in YES_WORDS else False if word in NO_WORDS else None


def extra_values_problem(row) -> list[str]:
    # csv.DictReader puts values beyond the header under the key None.
    return [_("more values than columns")] if row.get(None) else []


class ProgressLine:
    """A "\\r"-updated progress line on a terminal (nothing when the stream is not a TTY).

    Call it with (done, total); services report after each batch they write.
    """

    def __init__(self, label, stream=None):
        self.label, self.stream = label, stream or sys.stderr
        self.enabled = getattr(self.stream, "isatty", lambda: False)()

    def __call__(self, done, total):
        if not self.enabled:
            return
        percent = 100 if not total else done * 100 // total
        filled = percent // 5
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (20 - filled)}] {done}/{total} ({percent}%)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def write_in_batches(
    writes: Sequence[tuple[Sequence, Callable[[Sequence], object]]],
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Run each `(rows, write)` on slices of `batch_size` rows, calling `progress(done, total)`
    before the first and after every batch. Call it inside the import's transaction."""
    progress = progress or (lambda done, total: None)
    total, done = sum(len(rows) for rows, _write in writes), 0
    progress(0, total)
    for rows, write in writes:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            write(batch)
            done += len(batch)
            progress(done, total)


PROCESS_LOCAL_NOTICE = (
    "The cache is in each process's memory (no CACHE_URL: the embedded defaults), so a shop "
    "already running shows this import when it is restarted or its cached pages expire (in at "
    "most an hour). With CACHE_URL (Redis), every process shows it at once."
)


class CsvImportCommand(BaseCommand):
    """`manage.py import_<what> FILE`: all or nothing, every bad row listed, progress on a terminal.

    Subclasses set `what` ("products") and implement import_file() and summary().
    """

    what = "rows"

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file")

    def import_file(self, *, path, progress):
        """Import the file (raising ImportRejected for bad rows); returns a result with `.total`."""
        raise NotImplementedError

    def summary(self, result) -> str:
        """What changed, e.g. "2 created, 1 updated, 0 unchanged"."""
        raise NotImplementedError

    def handle(self, *args, file, **options):
        # The progress line redraws itself with "\r"; the command's wrapper would end each write
        # with a newline, so it writes to the stream underneath.
        progress = ProgressLine(f"Importing {self.what}", self.stderr._out)
        try:
            result = self.import_file(path=file, progress=progress)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
        except ImportRejected as rejected:
            for row_error in rejected.errors:
                self.stderr.write(f"{file}: {row_error}")
            raise CommandError(
                f"{len(rejected.errors)} problem(s) found in {file}; nothing was imported."
            ) from rejected
        except DatabaseError as error:
            # The writes share one transaction, which the error rolled back.
            raise CommandError(f"the database refused the import of {file} ({error}); nothing was imported.") from error
        self.stdout.write(
            self.style.SUCCESS(f"Imported {result.total} {self.what} from {file}: {self.summary(result)}.")
        )
        if settings.CACHES["default"]["BACKEND"] in PROCESS_LOCAL_CACHES:
            # The embedded defaults (make run): the pages' version stamps live in the web
            # server's memory, which this process cannot reach (o2o_site/cache/stamps.py).
            self.stdout.write(self.style.WARNING(PROCESS_LOCAL_NOTICE))
