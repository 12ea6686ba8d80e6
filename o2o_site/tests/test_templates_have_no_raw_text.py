"""Every word a reader sees in our templates goes through {% translate %} / {% blocktranslate %}.

The page and e-mail tests catch a translated string whose Icelandic or Norwegian is missing; this
one catches English typed straight into a template, which no catalogue knows about. It reads each
template we own (pages, e-mails in HTML and text, admin screens) with the template tags, the
translated blocks, scripts and markup taken out, and fails on any word left over.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The shop's name is a proper name, the same in every language.
NOT_WORDS_TO_TRANSLATE = {"Norðurbúð"}
# Attributes whose values are read by the shopper or read out by a screen reader.
READABLE_ATTRIBUTES = re.compile(r'\b(?:alt|title|placeholder|aria-label|label)="([^"]*)"')

STRIPPED = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S),
    # The admin's <body class="…"> block holds CSS class names.
    re.compile(r"{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}", re.S),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"{%.*?%}", re.S),
    re.compile(r"{{.*?}}", re.S),
    re.compile(r"<script\b.*?</script>", re.S | re.I),
    re.compile(r"<style\b.*?</style>", re.S | re.I),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"&#?\w+;"),
]
WORD = re.compile(r"[^\W\d_]{2,}")


def raw_words(source: str) -> list[str]:
    """Words in a template's source that no translation tag covers."""
    for pattern in STRIPPED:
        source = pattern.sub(" ", source)
    attributes = READABLE_ATTRIBUTES.findall(source)
    text = re.sub(r"<[^>]*>", " ", source)
    words = WORD.findall(text) + [word for value in attributes for word in WORD.findall(value)]
    return [word for word in words if word not in NOT_WORDS_TO_TRANSLATE]


def our_templates():
    return sorted(
        path
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt") and "bench" not in path.relative_to(TEMPLATES).parts
    )


def test_the_check_finds_english_typed_into_a_template():
    template = """{% load i18n %}<h1>{% translate "Your cart" %}</h1>
    <p>{% blocktranslate with n=count %}{{ n }} items{% endblocktranslate %} Free delivery!</p>
    <img src="x.png" alt="A sweater"> <a title="{% translate 'Home' %}">{{ product.name }}</a> Norðurbúð"""
    assert raw_words(template) == ["Free", "delivery", "sweater"]


@pytest.mark.parametrize("path", our_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_untranslated_words_in_our_templates(path):
    assert raw_words(path.read_text(encoding="utf-8")) == []
