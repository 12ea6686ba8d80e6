"""What every all-or-nothing CSV import shares (catalog, stock; postcodes follow the same rules).

A file is decoded as UTF-8 (a byte-order mark is fine), its header checked, and each row
validated before anything is written; problems are collected per line so the whole file is
rejected at once with every reason. Commands show a progress line while a good file is applied.
"""

import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _


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


def read_csv(text: str, *, required: Iterable[str]) -> list[dict]:
    """Rows of a CSV text as dicts keyed by the (stripped) header; the header must have `required`."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in required if column not in header]
    if missing:
        raise ImportRejected(
            [RowError(line=1, message=_("the header lacks %(columns)s") % {"columns": ", ".join(missing)})]
        )
    reader.fieldnames = header
    return list(reader)


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
