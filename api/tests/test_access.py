"""API keys (made in the admin, shown once, kept hashed, scoped to the channel's stores) and the
rate limit per key (429 with Retry-After)."""

import hashlib

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from api.api import api
from api.models import ApiKey
from api.services import create_api_key, key_for, revoke_api_key

pytestmark = pytest.mark.django_db


def every_operation():
    """(method, path) of every operation in the published schema, with sample path values."""
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield method, path.replace("{slug}", "laugavegur").replace("{token}", "x")


def test_every_operation_needs_a_key(client, world):
    operations = list(every_operation())
    assert len(operations) == 7
    for method, path in operations:
        for headers in (
            {},
            {"HTTP_X_API_KEY": "o2o_not-a-key-at-all-0000000000000000000000000"},
            {"HTTP_X_API_KEY": ""},
        ):
            response = getattr(client, method)(path, content_type="application/json", **headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.json()["detail"] == "Send a valid API key in the X-API-Key header."


def test_the_401_is_in_the_callers_language(client, world):
    response = client.get("/api/v1/products", HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 401
    assert response.json()["detail"] != "Send a valid API key in the X-API-Key header."


def test_a_key_is_kept_as_its_prefix_and_digest_only(world):
    key, raw = create_api_key(channel=world["kiosk"], name="Till 2")
    row = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith("o2o_") and len(raw) == 47 and raw.startswith(row.prefix)
    assert row.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in ApiKey.objects.filter(pk=key.pk).values().get().values()}
    assert key_for(raw) == key
    # a key with the right prefix but another ending is not the key
    assert key_for(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert key_for(None) is None and key_for("Bearer " + raw) is None


def test_a_revoked_key_and_a_key_of_an_inactive_channel_are_refused(client, world):
    key = key_for(world["kiosk_key"])
    revoke_api_key(key=key)
    assert client.get("/api/v1/products", HTTP_X_API_KEY=world["kiosk_key"]).status_code == 401
    world["app"].is_active = False
    world["app"].save()
    assert client.get("/api/v1/products", HTTP_X_API_KEY=world["app_key"]).status_code == 401


def test_the_limit_per_key_answers_429_with_retry_after_and_spares_other_keys(client, world):
    # given a channel allowed 3 requests a minute
    world["kiosk"].requests_per_minute = 3
    world["kiosk"].save()
    key = {"HTTP_X_API_KEY": world["kiosk_key"]}
    answers = [client.get("/api/v1/stores", **key).status_code for _ in range(3)]
    assert answers == [200, 200, 200]

    # when it asks a fourth time in the minute
    refused = client.get("/api/v1/stores", HTTP_ACCEPT_LANGUAGE="is", **key)

    # then 429, with the seconds to wait, in Icelandic, and nothing else counted for the other key
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "too many" not in refused.json()["detail"].lower()
    assert client.get("/api/v1/stores", HTTP_X_API_KEY=world["app_key"]).status_code == 200
    # a second key of the same channel has its own count
    _other, raw = create_api_key(channel=world["kiosk"], name="Till 2")
    assert client.get("/api/v1/stores", HTTP_X_API_KEY=raw).status_code == 200


def test_the_admin_shows_a_new_key_once_and_keeps_only_its_digest(admin_client, world):
    # when a superuser adds a key for the kiosk channel
    response = admin_client.post(
        reverse("admin:api_apikey_add"), {"channel": world["kiosk"].pk, "name": "Kiosk by the till"}
    )

    # then the page shows the key, which works, and the database does not hold it
    assert response.status_code == 200
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    key = ApiKey.objects.get(name="Kiosk by the till")
    assert key.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert key_for(raw) == key
    # and its change page never shows it again
    page = admin_client.get(reverse("admin:api_apikey_change", args=[key.pk]))
    assert page.status_code == 200 and raw not in page.content.decode() and key.prefix in page.content.decode()


def test_the_admin_revokes_keys(admin_client, world):
    key = key_for(world["kiosk_key"])
    admin_client.post(reverse("admin:api_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    assert key_for(world["kiosk_key"]) is None


def test_a_store_manager_cannot_see_or_make_keys(client, world):
    client.force_login(StoreManagerFactory(username="gudrun", stores=[world["laugavegur"]]))
    assert client.get(reverse("admin:api_apikey_changelist")).status_code == 403
    assert client.post(reverse("admin:api_apikey_add"), {"channel": world["kiosk"].pk, "name": "x"}).status_code == 403
    assert client.get(reverse("admin:api_apichannel_changelist")).status_code == 403
    assert ApiKey.objects.filter(name="x").count() == 0


def test_the_schema_and_the_docs_are_published_without_a_key_and_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    # the page's own script and style are ours: CSP allows 'self' only, and the page has no inline script
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    assert "<script>" not in page
