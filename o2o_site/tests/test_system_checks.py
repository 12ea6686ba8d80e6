"""The settings that must not be forgotten are system-check errors with DEBUG off, so the shop
refuses to start (o2o_site/checks.py); with DEBUG on, a developer is never stopped by them."""

import pytest
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from o2o_site import checks

A_REAL_KEY = "k3x!p9-a-production-like-secret-with-plenty-of-entropy-0123456789abcdef"
DEVELOPMENT_KEY = "django-insecure-embedded-default-only-for-local-development"
REDIS = "o2o_site.redis_cache.RedisCache"
SHARED_CACHES = {
    "default": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:6379/1"},
    "template_fragments": {"BACKEND": REDIS, "LOCATION": "redis://127.0.0.1:6379/1", "KEY_PREFIX": "fragments"},
}
LOCAL_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "template_fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "f"},
}
PRODUCTION = {"DEBUG": False, "SECRET_KEY": A_REAL_KEY, "SECRET_KEY_FALLBACKS": [], "O2O_SINGLE_PROCESS": False}


def errors_from_check():
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    return str(raised.value)


@override_settings(**PRODUCTION, CACHES=SHARED_CACHES)
def test_production_settings_pass():
    call_command("check")


@pytest.mark.parametrize("key", [DEVELOPMENT_KEY, "django-insecure-another-generated-one", checks.ENV_EXAMPLE_KEY])
def test_a_published_secret_key_with_debug_off_is_an_error(settings, key):
    with override_settings(**{**PRODUCTION, "SECRET_KEY": key}, CACHES=SHARED_CACHES):
        message = errors_from_check()
    assert "o2o_site.E001" in message and "SECRET_KEY_FALLBACKS" in message  # the hint says how to rotate


def test_the_embedded_default_key_is_the_one_refused(settings):
    # The settings module's own default, not a copy of it that could drift apart.
    assert settings.DEVELOPMENT_SECRET_KEY == DEVELOPMENT_KEY
    with override_settings(**{**PRODUCTION, "SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY}):
        assert [error.id for error in checks.check_secret_keys()] == ["o2o_site.E001"]


def test_a_published_key_among_the_fallbacks_is_an_error():
    fallbacks = ["an-old-real-key-that-signed-links-0123456789abcdefghijklmnopqrstuvw", DEVELOPMENT_KEY]
    with override_settings(**{**PRODUCTION, "SECRET_KEY_FALLBACKS": fallbacks}, CACHES=SHARED_CACHES):
        message = errors_from_check()
    assert "o2o_site.E002" in message and "o2o_site.E001" not in message


def test_with_debug_on_the_development_key_and_memory_cache_are_fine():
    with override_settings(DEBUG=True, SECRET_KEY=DEVELOPMENT_KEY, CACHES=LOCAL_CACHES, O2O_SINGLE_PROCESS=False):
        assert checks.check_secret_keys() == [] and checks.check_shared_cache() == []
        call_command("check")


def test_no_shared_cache_with_debug_off_is_an_error():
    with override_settings(**PRODUCTION, CACHES=LOCAL_CACHES):
        message = errors_from_check()
    assert "o2o_site.E003" in message and "CACHE_URL" in message and "O2O_SINGLE_PROCESS" in message


def test_a_shop_declared_single_process_may_keep_its_cache_in_memory():
    with override_settings(**{**PRODUCTION, "O2O_SINGLE_PROCESS": True}, CACHES=LOCAL_CACHES):
        call_command("check")


def test_the_checks_are_errors_not_warnings():
    with override_settings(
        DEBUG=False, SECRET_KEY=DEVELOPMENT_KEY, SECRET_KEY_FALLBACKS=[], CACHES=LOCAL_CACHES, O2O_SINGLE_PROCESS=False
    ):
        found = checks.check_secret_keys() + checks.check_shared_cache()
    assert [error.id for error in found] == ["o2o_site.E001", "o2o_site.E003"]
    assert all(isinstance(error, Error) and error.is_serious() for error in found)


def test_the_web_server_refuses_to_start_on_them():
    # gunicorn runs no system checks: o2o_site/wsgi.py runs these itself.
    with (
        override_settings(DEBUG=False, SECRET_KEY=DEVELOPMENT_KEY, CACHES=LOCAL_CACHES, O2O_SINGLE_PROCESS=False),
        pytest.raises(ImproperlyConfigured, match="o2o_site.E001"),
    ):
        checks.refuse_to_start_on_errors()
    with override_settings(**PRODUCTION, CACHES=SHARED_CACHES):
        checks.refuse_to_start_on_errors()
