"""The product page's table of other stores is put together in Python (storefront.product_page
.availability_rows) from pieces kept per process: it writes exactly what the template's loop over
the rows wrote, in every language, with and without my store's distances."""

import itertools

import pytest
from django.template import engines
from django.utils import translation

from storefront import product_page
from storefront.product_page import availability_rows
from stores.models import Store
from stores.selectors import StoreAvailability

# The loop as templates/includes/product_store_parts.html had it, with the labels it set before.
TEMPLATE_LOOP = (
    "{% load i18n fragments %}"
    '{% translate "Distance" as distance_label %}{% translate "In stock" as in_stock_label %}'
    '{% translate "Now" as now_label %}'
    "{% for row in elsewhere %}\n"
    '      <tr data-testid="store-availability-row" data-store="{{ row.store.slug }}">\n'
    '        <th scope="row"><a href="{{ row.store.get_absolute_url }}">{{ row.store.name }}</a><br>'
    '<span class="muted">{{ row.store.city }}</span></th>\n'
    '        {% if store %}<td class="nowrap" data-label="{{ distance_label }}">'
    '{% blocktranslate with distance=row.distance_km|floatformat:"1g" %}{{ distance }} km{% endblocktranslate %}'
    "</td>{% endif %}\n"
    '        <td data-testid="store-stock" data-label="{{ in_stock_label }}">{% if row.in_stock %}'
    "{% blocktranslate count counter=row.available %}{{ counter }} available{% plural %}{{ counter }} available"
    '{% endblocktranslate %}{% else %}<span class="out-of-stock">{% translate "Out of stock" %}</span>{% endif %}'
    "</td>\n"
    '        <td data-label="{{ now_label }}">{% kept_include "includes/open_status.html" is_open=row.is_open %}</td>\n'
    "      </tr>\n"
    "      {% endfor %}"
)


def rows():
    names = [("Kringlan", "Reykjavík"), ("Smáralind & Co <b>", "Kópavogur"), ('Hafnar"fjörður', "O'Hara")]
    distances = [0.04, 1.25, 9.95, 12.0, 1234.56, 0.0]
    units = [0, 1, 2, 1234]
    found = []
    for number, ((name, city), distance, available, is_open) in enumerate(
        itertools.product(names, distances, units, (True, False))
    ):
        store = Store(pk=number + 1, slug=f"store-{number}", name=name, city=city)
        found.append(StoreAvailability(store=store, available=available, is_open=is_open, distance_km=distance))
    return found


@pytest.mark.parametrize("language", ["en", "is", "nb"])
@pytest.mark.parametrize("with_distance", [True, False])
def test_the_rows_are_what_the_templates_loop_wrote(language, with_distance):
    product_page._row_pieces.clear()
    loop = engines["django"].from_string(TEMPLATE_LOOP)
    shown = rows()
    with translation.override(language):
        expected = loop.render({"elsewhere": shown, "store": object() if with_distance else None})
        # Twice: rendered, then from the pieces kept.
        assert availability_rows(shown, with_distance=with_distance) == expected
        assert availability_rows(shown, with_distance=with_distance) == expected
