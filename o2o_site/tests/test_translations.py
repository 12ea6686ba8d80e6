"""The Icelandic and Norwegian catalogues cover every string in our code, and the committed .mo
files are the compiled .po files.

Fails when someone adds a string without translating it: makemessages runs on a copy of the
project, so a new msgid shows up there as untranslated (or fuzzy, when gettext guessed it from a
similar one). Needs GNU gettext (xgettext, msgmerge, msgfmt), as makemessages does.
"""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from o2o_site.tests.po import LANGUAGES, po_path, problems, read_po

PROJECT = Path(settings.BASE_DIR)
NOT_SOURCE = (".git", ".venv", "media", "staticfiles", "node_modules", "__pycache__", ".*_cache", "*.sqlite3", "*.mo")


@pytest.fixture(scope="module")
def gettext_tools():
    for tool in ("xgettext", "msgmerge", "msgfmt"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install gettext", pytrace=False)


@pytest.fixture(scope="module")
def catalogues_made_from_the_code_now(gettext_tools, tmp_path_factory):
    """The .po files as makemessages leaves them after reading today's code (on a copy)."""
    copy = tmp_path_factory.mktemp("project") / "project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    command = [sys.executable, "manage.py", "makemessages", "--no-obsolete", "--ignore=.venv", "--ignore=staticfiles"]
    for language in LANGUAGES:
        command += ["-l", language]
    subprocess.run(command, cwd=copy, check=True, capture_output=True, text=True)
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_our_code_is_translated(catalogues_made_from_the_code_now, language):
    # given the catalogue makemessages makes from the code as it is now
    entries = read_po(po_path(language, catalogues_made_from_the_code_now))

    # then every msgid has a real (non-empty, non-fuzzy) translation
    assert len(entries) > 300
    assert problems(entries) == [], f"untranslated or fuzzy in locale/{language}: run makemessages and translate"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_catalogue_has_nothing_untranslated_or_fuzzy(language):
    entries = read_po(po_path(language))
    assert problems(entries) == []
    header = po_path(language).read_text(encoding="utf-8")
    assert f'"Language: {language}\\n"' in header
    assert '#, fuzzy\nmsgid ""' not in header


def test_plural_forms_are_the_languages_own():
    # Icelandic: one form for 1, 21, 31… (not 11), the other for the rest; Bokmål: 1 and the rest
    icelandic = po_path("is").read_text(encoding="utf-8")
    norwegian = po_path("nb").read_text(encoding="utf-8")
    assert "Plural-Forms: nplurals=2; plural=(n%10!=1 || n%100==11);" in icelandic
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in norwegian


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_file_is_the_compiled_po_file(gettext_tools, tmp_path, language):
    # given the .po compiled now
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(po_path(language))], check=True)

    # then the committed .mo says exactly the same (compare catalogues, not bytes)
    committed = po_path(language).with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run manage.py compilemessages and commit it"
    with compiled.open("rb") as fresh, committed.open("rb") as stored:
        assert gettext.GNUTranslations(stored)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            f"{committed} is out of date: run manage.py compilemessages and commit it"
        )


def test_one_word_for_one_thing_in_each_language():
    # Bokmål: the rewards points are "fordelspoeng" (as the programme's "fordeler"), never
    # "bonuspoeng" on one page and "fordelspoeng" on the next
    norwegian = " ".join(text for entry in read_po(po_path("nb")) for text in entry.msgstrs)
    assert "fordelspoeng" in norwegian.lower() and "bonuspoeng" not in norwegian.lower()

    # Icelandic: a payment hold runs "til kl. 13:41", for a pickup as for a delivery
    holds = [entry for entry in read_po(po_path("is")) if "held for you until %(" in entry.msgid]
    assert len(holds) == 4, [entry.msgid for entry in holds]  # pickup and delivery, reserved and waiting
    for entry in holds:
        assert "til kl. %(" in " ".join(entry.msgstrs[0].split()), entry.msgid
