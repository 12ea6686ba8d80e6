"""Security headers on the shop's pages, and no inline code for the Content-Security-Policy to allow."""

import re

import pytest
from django.urls import reverse

from o2o_site.tests.test_production_settings import PRODUCTION_ENV, run_manage

pytestmark = pytest.mark.django_db


def policy(response):
    return {
        directive.split()[0]: directive.split()[1:]
        for directive in (part.strip() for part in response["Content-Security-Policy"].split(";"))
        if directive
    }


def test_a_shop_page_carries_the_security_headers(client):
    response = client.get(reverse("catalog:product_list"))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    # and the store map's tile server (MAP_TILES_URL, OpenStreetMap by default), for images only
    assert csp["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_admin_carries_the_same_policy(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert policy(response)["script-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def inline_code(html):
    """Everything a strict CSP would block: inline scripts, event handlers, style attributes."""
    return [
        match.group(0)
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE, JAVASCRIPT_URL)
        for match in pattern.finditer(html)
    ]


def test_the_inline_code_detector_finds_what_the_policy_blocks():
    assert inline_code('<script>alert(1)</script><p style="color:red" onclick="x()">') != []
    assert len(inline_code('<script>alert(1)</script><p style="color:red" onclick="x()">')) == 3
    assert inline_code('<script src="/static/js/locate.js" defer></script><p class="x">') == []


def test_hsts_is_sent_in_production():
    # given the production environment (HTTPS=true), a request over HTTPS (to a page that needs no
    # collected static files: this checkout has not run collectstatic, as a deploy would)
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/i18n/setlang/', secure=True, HTTP_HOST='shop.example.com'); "
        "print(r.get('Strict-Transport-Security')); print(r.get('Content-Security-Policy'))"
    )
    result = run_manage("shell", "-c", code, env_overrides=PRODUCTION_ENV)

    # then browsers are told to use HTTPS only, for a year, on subdomains too
    assert result.returncode == 0, result.stderr
    hsts, csp = result.stdout.strip().splitlines()[-2:]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in csp
