"""Schemathesis against the published OpenAPI schema, in-process on the WSGI app: with the
kiosk's key no operation answers 500 or anything the schema does not describe (status, headers,
body), invalid input is refused and valid input accepted; without a key, or with another's,
every operation answers 401."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.django_db

# Examples per operation and mode: seven operations, two modes and the keyless pass in about a minute.
EXAMPLES = 25


@pytest.fixture
def schema(world):
    # The WSGI handler closes the connection after a request when it is inside a transaction (as
    # the test is); Django's test client stops that too.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) == 7
    return found


def run(operation, mode, check):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def each(case):
        check(case)

    each()


# What an OpenAPI schema cannot say of query parameters: /stores is nearest to a postcode or to a
# point, so a postcode with lat/lon, or half a point, is refused (422) although each parameter is
# valid on its own. Such a refusal must name exactly those fields; any other 422 still fails.
ONE_PLACE = {"postcode", "lat", "lon"}


def call_and_validate(case, key, mode):
    query = {name: value for name, value in (case.query or {}).items() if value not in (None, "")}
    two_places = "postcode" in query and ({"lat", "lon"} & set(query))
    half_point = len({"lat", "lon"} & set(query)) == 1
    stores = case.operation.path == "/api/v1/stores" and mode == GenerationMode.POSITIVE
    if stores and (two_places or half_point):
        response = case.call_and_validate(headers=key, excluded_checks=[positive_data_acceptance])
        assert response.status_code == 422, (query, response.status_code)
        assert {error["field"] for error in response.json()["errors"]} <= ONE_PLACE
        return
    case.call_and_validate(headers=key)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_with_the_kiosks_key_every_answer_is_as_the_schema_says(schema, world, mode):
    key = {"X-API-Key": world["kiosk_key"]}
    for operation in operations(schema):
        run(operation, mode, lambda case: call_and_validate(case, key, mode))


def test_without_the_right_key_no_operation_answers(schema, world):
    revoked = "o2o_" + "A" * 43
    for operation in operations(schema):

        def refused(case, operation=operation):
            for headers in ({}, {"X-API-Key": revoked}, {"X-API-Key": world["kiosk_key"][:-1]}):
                case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
                response = case.call(headers=headers)
                assert response.status_code == 401, (operation.label, headers, response.status_code)

        run(operation, GenerationMode.POSITIVE, refused)
