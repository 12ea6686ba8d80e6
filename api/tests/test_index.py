"""/api/v1/ itself: where everything is, without a key (it was a 404)."""

import pytest

from api.api import api

pytestmark = pytest.mark.django_db


def test_the_index_lists_every_operation_without_a_key(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Norðurbúð API"
    assert body["version"] == "1"
    assert body["openapi"] == "http://testserver/api/v1/openapi.json"
    assert body["docs"] == "http://testserver/api/v1/docs"
    schema = api.get_openapi_schema()
    listed = {(operation["method"], operation["path"]) for operation in body["operations"]}
    published = {(method.upper(), path) for path, methods in schema["paths"].items() for method in methods}
    assert listed == published
    assert len(listed) == 7
    assert all(operation["summary"] for operation in body["operations"])
    assert ("GET", "/api/v1/products") in listed


def test_every_path_the_index_lists_is_served(client):
    """A client starting at /api/v1/ reaches each operation it lists: asked without a key, each
    answers 401 (it exists and wants a key), never 404."""
    for operation in client.get("/api/v1/").json()["operations"]:
        path = operation["path"].replace("{slug}", "laugavegur").replace("{token}", "x")
        answer = getattr(client, operation["method"].lower())(path, content_type="application/json")
        assert answer.status_code == 401, (operation, answer.status_code)


def test_the_index_speaks_the_callers_language(client):
    body = client.get("/api/v1/", HTTP_ACCEPT_LANGUAGE="is").json()
    assert body["authentication"] == "Sendu API-lykil rásarinnar í X-API-Key hausnum."


def test_the_index_is_not_in_the_schema_and_operations_still_need_a_key(client):
    assert "/" not in api.get_openapi_schema()["paths"]
    assert client.get("/api/v1/products").status_code == 401
