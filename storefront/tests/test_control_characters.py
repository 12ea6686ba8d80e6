"""A NUL byte or another control character in what a shopper's address carries (a search, a
category, a postcode, a SKU) is dropped before it reaches the database: PostgreSQL's text
cannot hold NUL, and a 500 for a stray byte is no answer (storefront/shopper_input.py)."""

import pytest

from catalog.tests.factories import ProductFactory
from storefront.shopper_input import without_control_characters

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_control_characters_are_dropped_and_line_breaks_are_spaces():
    assert without_control_characters("a\x00b\x07c\x7f\x9f") == "abc"
    assert without_control_characters("wool\tsweater\r\n") == "wool sweater  "
    assert without_control_characters("Prjónahúfa") == "Prjónahúfa"


@pytest.mark.parametrize("query", ["q=%00", "q=%00%01%1b", "category=%00", "sort=%00", "page=%00", "min_price=%00"])
def test_the_list_answers_a_parameter_of_control_characters_as_if_it_were_empty(client, require_postgres, query):
    # given
    ProductFactory(name_en="Enamel mug", sku="MUG-00042")

    # when
    response = client.get(f"/?{query}")

    # then
    assert response.status_code == 200
    assert b'data-sku="MUG-00042"' in response.content


def test_a_search_with_a_nul_in_it_finds_what_the_rest_of_it_finds(client, require_postgres):
    # given
    ProductFactory(name_en="Enamel mug", sku="MUG-00042")
    ProductFactory(name_en="Wool scarf", sku="SCARF-1")

    # when
    response = client.get("/?q=m%00ug")

    # then
    assert response.status_code == 200
    assert b'data-sku="MUG-00042"' in response.content
    assert b'data-sku="SCARF-1"' not in response.content


def test_a_postcode_with_a_nul_in_it_is_read_without_it(client, require_postgres):
    # when
    response = client.get("/stores/?postcode=1%0001")

    # then the postcode is looked up (not in this test's table: the form says so), not a 500
    assert response.status_code == 200
    assert b"101" in response.content


def test_the_availability_of_a_sku_with_a_nul_in_it_is_not_found(client, require_postgres):
    assert client.get("/api/products/MUG%00/availability.json").status_code == 404
