"""Reading the shop's gettext catalogues in tests, without a library: entries of a .po file and
the English text of our msgids, so tests can look for English left on translated pages."""

import ast
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

LANGUAGES = ("is", "nb")
# Fragments are cut at placeholders and at HTML tags (msgids like 'New here? <a href="…">…</a>').
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdr]|%[sd]|<[^>]*>")
# Attributes whose values a shopper reads or hears.
READABLE_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "label", "value", "content"}
# Shorter English fragments ("Log in", "Total") could well appear inside other words or names.
MIN_FRAGMENT_LENGTH = 13


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def po_path(language: str, base: Path | None = None) -> Path:
    return Path(base or settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"


def read_po(path: Path) -> list[Entry]:
    """Every entry of a .po file but the header."""
    entries, entry, target = [], Entry(), None

    def finish():
        nonlocal entry, target
        if entry.msgid or entry.msgstrs:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            text = ast.literal_eval(line)
        else:
            text = ast.literal_eval(rest)
            if keyword == "msgid":
                target = "msgid"
            elif keyword == "msgid_plural":
                target = "msgid_plural"
            elif keyword.startswith("msgstr"):
                target = "msgstr"
                entry.msgstrs.append("")
            else:
                target = None
                continue
        if target == "msgid":
            entry.msgid += text
        elif target == "msgid_plural":
            entry.msgid_plural += text
        elif target == "msgstr":
            entry.msgstrs[-1] += text
    finish()
    return [entry for entry in entries if entry.msgid and not entry.obsolete]


def problems(entries: list[Entry]) -> list[str]:
    """msgids with a missing, empty or fuzzy translation."""
    return [
        entry.msgid
        for entry in entries
        if "fuzzy" in entry.flags or not entry.msgstrs or not all(text.strip() for text in entry.msgstrs)
    ]


def english_fragments(language: str) -> set[str]:
    """The English text of our msgids (split at their placeholders) that would show on a page in
    `language` if it were left untranslated: long enough to be telling, and not text the
    translation keeps as it is (e.g. "%(distance)s km")."""
    fragments = set()
    for entry in read_po(po_path(language)):
        for english in filter(None, (entry.msgid, entry.msgid_plural)):
            for fragment in PLACEHOLDER.split(english):
                fragment = fragment.strip()
                if len(fragment) < MIN_FRAGMENT_LENGTH:
                    continue
                if any(fragment in translated for translated in entry.msgstrs):
                    continue
                fragments.add(fragment)
    return fragments


class _Readable(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.parts.extend(value for name, value in attrs if name in READABLE_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable_text(page: str) -> str:
    """What a shopper reads on an HTML page: its text and the attributes read out (alt, labels…),
    one piece per line; plain text (an e-mail body) is returned as it is."""
    if "<" not in page:
        return page
    parser = _Readable()
    parser.feed(page)
    return "\n".join(" ".join(part.split()) for part in parser.parts)


def english_left_in(page: str, language: str) -> list[str]:
    """Our English fragments found in what a reader of `page` sees."""
    text = readable_text(page)
    return sorted(fragment for fragment in english_fragments(language) if fragment in text)
