"""The NUL character, which PostgreSQL's text cannot hold, is refused by the API as invalid input
(422 naming each field, 404 in a path), never a 500 (found by a fresh-eyes test: the database
refused it, "PostgreSQL text fields cannot contain NUL (0x00) bytes")."""

import pytest

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Null characters are not allowed."


@pytest.mark.parametrize(
    ("path", "query", "fields"),
    [
        ("/api/v1/products", {"q": "wool\x00"}, ["q"]),
        ("/api/v1/products", {"q": "\x00"}, ["q"]),
        ("/api/v1/stores", {"postcode": "\x00", "country": "IS"}, ["postcode"]),
        ("/api/v1/delivery-options", {"postcode": "10\x001", "q": "x\x00"}, ["postcode", "q"]),
    ],
)
def test_a_nul_in_a_query_is_refused_naming_the_field(app_client, path, query, fields):
    response = app_client.get(path, query)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "message": NUL_MESSAGE} for field in fields]


@pytest.mark.parametrize("path", ["/api/v1/products/%00", "/api/v1/orders/ab%00cd", "/api/v1/stores/%00"])
def test_a_nul_in_a_path_is_not_found(app_client, path):
    response = app_client.get(path)

    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."


def test_a_nul_in_a_kiosk_carts_sku_is_an_unknown_sku(kiosk_client):
    response = kiosk_client.post(
        "/api/v1/kiosk/stores/laugavegur/cart",
        {"lines": [{"sku": "MIT-1", "quantity": 1}, {"sku": "MIT-1\x00", "quantity": 1}]},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["problems"] == ["No product with the SKU “MIT-1\x00” is for sale."]


def test_the_refusal_is_in_the_clients_language(app_client):
    response = app_client.get("/api/v1/products", {"q": "\x00"}, HTTP_ACCEPT_LANGUAGE="is")

    assert response.json()["errors"][0]["message"] == "Núllstafir eru ekki leyfðir."
