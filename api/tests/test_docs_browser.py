"""The browsable API docs in a real browser: Swagger UI from the shop's own static files draws
every operation of the published schema, and the Content-Security-Policy blocks nothing it needs."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_show_every_operation_with_nothing_blocked(browser, live_server):
    # given a developer's browser, listening for what the page and its policy complain of
    page = browser.new_context().new_page()
    complaints, requests = [], []
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))

    # when they open the docs
    page.goto(live_server.url + "/api/v1/docs")

    # then Swagger UI lists the seven operations, with the key's header to authorise with
    page.locator(".opblock").nth(6).wait_for()
    assert page.locator(".opblock").count() == 7
    assert page.locator(".opblock-summary-path", has_text="/api/v1/kiosk/stores/{slug}/checkout").count() == 1
    assert page.locator("button.authorize").is_visible()
    # and nothing was refused by the policy or failed, and nothing came from another host
    assert complaints == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests), requests
