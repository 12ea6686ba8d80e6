"""The dashboard in Chromium at laptop widths: it fits without scrolling sideways, its charts are
drawn (bars, no script, nothing the Content-Security-Policy blocks), and a chart's table opens."""

import datetime
import os

import pytest
from django.urls import reverse

from accounts.tests.factories import DEMO_PASSWORD, StoreManagerFactory
from analytics.rollups import roll_up

from .seed import DAY, seed_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOPS = [{"width": 1280, "height": 800}, {"width": 1440, "height": 900}]


def test_the_dashboard_is_usable_at_laptop_widths(browser, live_server, tmp_path):
    # given the seeded shop rolled up, and a manager of Laugavegur and of Grünerløkka
    shop = seed_shop()
    roll_up(start=DAY - datetime.timedelta(days=7), end=DAY)
    StoreManagerFactory(username="helga", stores=[shop["reykjavik"], shop["oslo"]])
    query = f"?start={(DAY - datetime.timedelta(days=6)).isoformat()}&end={DAY.isoformat()}"
    url = live_server.url + reverse("admin:analytics_dailystorefigures_dashboard") + query

    for viewport in LAPTOPS:
        page = browser.new_context(viewport=viewport).new_page()
        blocked = []

        def refused(message, blocked=blocked):
            if "Content Security" in message.text:
                blocked.append(message.text)

        page.on("console", refused)
        page.goto(live_server.url + reverse("admin:index"))
        page.fill("#id_username", "helga")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("input[type=submit]")

        # when she opens the dashboard of her stores for the week to 10 November
        page.goto(url)
        page.wait_for_load_state("load")
        shot = tmp_path / f"dashboard-{viewport['width']}.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("O2O_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["O2O_SCREENSHOTS"], shot.name), full_page=True)

        # then nothing scrolls sideways, every chart has its bars and its colours from the stylesheet
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.locator("svg.o2o-chart-svg").count() == 10
        assert page.locator("#chart-orders svg rect").count() >= 2
        fill = page.locator("#chart-orders svg rect").first.evaluate("rect => getComputedStyle(rect).fill")
        assert fill == "rgb(47, 111, 159)"
        assert blocked == []
        # and each chart is as wide as half the page or more, so its labels can be read
        width = page.locator("#chart-orders svg").bounding_box()["width"]
        assert width >= 560
        # and a chart's table opens with the day's figures
        page.locator("#chart-orders summary").click()
        assert page.locator("#chart-orders table tbody tr").count() == 7
        assert page.get_by_text("Online orders", exact=True).is_visible()
        page.context.close()
