"""A guest joins the rewards by phone on a 390 px phone in Chromium: she types her number, reads
the code from the text message (the file SMS backend) and types it, then sees her member page
with her number on one line; and a join link opened from an e-mail joins only after she confirms."""

import re

import pytest
from django.urls import reverse

from o2o_site.sms import messages_in
from rewards.models import RewardAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_guest_joins_by_phone_on_her_phone(browser, live_server, settings, tmp_path):
    settings.SMS_BACKEND = "o2o_site.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    context = browser.new_context(viewport=PHONE, locale="is", extra_http_headers={"Accept-Language": "is"})
    page = context.new_page()
    # given Guðrún on the join page, in Icelandic
    page.goto(live_server.url + reverse("rewards:join"))
    # when she types a number that is not one, she is told at the field, with what she typed
    page.fill("#id_phone", "55512")
    page.get_by_test_id("join-phone-button").click()
    assert "er ekki símanúmer sem við getum sent SMS í" in page.content()
    assert page.input_value("#id_phone") == "55512"
    # when she types her number, a code is texted to her and she is asked for it
    page.fill("#id_phone", "555 1234")
    page.get_by_test_id("join-phone-button").click()
    page.get_by_test_id("rewards-join-phone").wait_for()
    assert "+3545551234" in page.content()
    (text,) = messages_in(tmp_path, to="+3545551234")
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert "kóðinn þinn" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.fill("#id_code", code)
    page.get_by_test_id("join-code-button").click()
    # then she is a member and sees her page, her number on one line, nothing scrolling sideways
    page.get_by_test_id("rewards-member").wait_for()
    account = RewardAccount.objects.get()
    assert account.phone == "+3545551234"
    number = page.get_by_test_id("member-number")
    assert number.inner_text() == account.number
    assert number.bounding_box()["height"] < 60
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_a_join_link_from_the_email_joins_only_when_she_confirms(browser, live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server.url + reverse("rewards:join"))
    page.fill("#id_email", "gudrun@example.is")
    page.get_by_test_id("join-button").click()
    page.get_by_test_id("rewards-join-sent").wait_for()
    link = re.search(r"(http://\S+/rewards/join/\S+/)", mailoutbox[0].body).group(1)
    # when the link is opened, it asks; nobody is a member yet
    page.goto(link)
    page.get_by_test_id("rewards-join-confirm").wait_for()
    assert not RewardAccount.objects.exists()
    # when she confirms, she is
    page.get_by_test_id("join-confirm-button").click()
    page.get_by_test_id("rewards-member").wait_for()
    assert RewardAccount.objects.get().email == "gudrun@example.is"
    context.close()
