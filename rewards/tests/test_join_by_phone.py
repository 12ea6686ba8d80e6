"""A guest joins by phone (issue 14: "a verified e-mail or phone number for a guest who joins"):
a six-digit code goes by text message through SMS_BACKEND (here the file backend), is kept only
hashed, expires, allows a few wrong tries and a few codes an hour; typed back, she is a member
with that number, and her guest orders placed with it earn for her."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from o2o_site.sms import messages_in
from rewards import services, verification
from rewards.emails import send_expiry_notice
from rewards.models import ExpiryNotice, PhoneVerification, RewardAccount

from .conftest import collect

pytestmark = pytest.mark.django_db

NUMBER = "+3545551234"


@pytest.fixture(autouse=True)
def sms_to_files(settings, tmp_path):
    settings.SMS_BACKEND = "o2o_site.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.REWARDS_PHONE_CODE_ATTEMPTS = 5
    settings.REWARDS_PHONE_CODES_PER_HOUR = 3
    return tmp_path


def code_texted(folder, to=NUMBER):
    return re.search(r"\b(\d{6})\b", messages_in(folder, to=to)[-1]).group(1)


def ask_for_code(client, phone="555 1234"):
    return client.post(reverse("rewards:join"), {"by": "phone", "phone": phone})


def test_a_guest_joins_with_the_code_texted_to_her(client, sms_to_files, django_capture_on_commit_callbacks):
    # when Guðrún asks to join with her mobile number, typed the Icelandic way
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("rewards:join"), {"by": "phone", "phone": "555 1234"})
    # then a code is texted to the number in full, and she is asked for it; nobody is a member yet
    assert response.status_code == 302 and response["Location"] == reverse("rewards:join_phone")
    code = code_texted(sms_to_files)
    assert not RewardAccount.objects.exists()
    # and only a hash of the code is kept
    stored = PhoneVerification.objects.get()
    assert stored.phone == NUMBER and code not in stored.code_hash and len(stored.code_hash) == 64
    page = client.get(reverse("rewards:join_phone")).content.decode()
    assert NUMBER in page and 'autocomplete="one-time-code"' in page

    # when she types it back (with a space, as phones show it)
    response = client.post(reverse("rewards:join_phone"), {"code": f"{code[:3]} {code[3:]}"})

    # then she is a member with that number, and sees her page
    assert response.status_code == 302 and response["Location"] == reverse("rewards:member")
    account = RewardAccount.objects.get()
    assert (account.phone, account.email, account.user) == (NUMBER, "", None)
    assert account.number in client.get(reverse("rewards:member")).content.decode()
    # and the code cannot be used again
    with pytest.raises(services.RewardRefused, match="used"):
        verification.join_with_code(verification_id=stored.pk, code=code)


def test_a_wrong_code_is_said_at_the_field_and_the_tries_run_out(
    client, sms_to_files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask_for_code(client)
    code = code_texted(sms_to_files)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("rewards:join_phone"), {"code": wrong})
    page = response.content.decode()
    assert response.status_code == 200 and "That is not the code we sent. 4 tries left." in page
    assert f'value="{wrong}"' in page  # what she typed is kept
    for _ in range(4):
        client.post(reverse("rewards:join_phone"), {"code": wrong})
    assert PhoneVerification.objects.get().attempts == 5
    # then even the right code is refused: the code is spent
    page = client.post(reverse("rewards:join_phone"), {"code": code}).content.decode()
    assert "Too many wrong codes. Ask for a new one." in page
    assert not RewardAccount.objects.exists()


def test_an_expired_code_is_refused(sms_to_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = verification.send_join_code(phone=NUMBER, language="en")
    later = timezone.now() + datetime.timedelta(minutes=11)
    with pytest.raises(services.RewardRefused, match="expired"):
        verification.join_with_code(verification_id=sent.pk, code=code_texted(sms_to_files), now=later)
    assert not RewardAccount.objects.exists()


@pytest.mark.parametrize("typed", ["12", "not a phone", "+354 12", "+1 555 0000 00000 000"])
def test_a_number_that_cannot_be_texted_is_said_at_the_field_and_nothing_is_sent(client, sms_to_files, typed):
    response = client.post(reverse("rewards:join"), {"by": "phone", "phone": typed})
    page = response.content.decode()
    assert response.status_code == 200 and "is not a phone number we can text" in page
    assert f'value="{typed}"' in page
    assert not PhoneVerification.objects.exists() and not list(sms_to_files.iterdir())


def test_no_more_than_three_codes_an_hour_to_one_number(client, sms_to_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert ask_for_code(client).status_code == 302
    response = ask_for_code(client, phone="+354 555-1234")
    assert response.status_code == 200 and "Too many codes were sent to this number" in response.content.decode()
    assert PhoneVerification.objects.count() == 3 and len(messages_in(sms_to_files, to=NUMBER)) == 3


def test_joining_again_with_the_same_number_is_the_same_member(sms_to_files, django_capture_on_commit_callbacks):
    accounts = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            sent = verification.send_join_code(phone="5551234", language="is")
        accounts.append(verification.join_with_code(verification_id=sent.pk, code=code_texted(sms_to_files)))
    assert accounts[0] == accounts[1] and RewardAccount.objects.count() == 1
    assert "kóði" in messages_in(sms_to_files, to=NUMBER)[-1] or "kóða" in messages_in(sms_to_files, to=NUMBER)[-1]


def test_a_guest_order_with_her_number_earns_for_the_phone_member(order, pickup_manager):
    # given Guðrún joined by phone; her guest order gives the same number and an address of no member
    member = services.join(phone=NUMBER)
    type(order).objects.filter(pk=order.pk).update(contact_email="gudrun@example.net", contact_phone="+354 555 1234")
    order.refresh_from_db()
    collect(order, pickup_manager)
    entry = services.earn_for_order(order=order)
    assert entry is not None and entry.account == member and entry.points > 0


def test_a_phone_member_is_told_by_text_that_points_expire(sms_to_files):
    member = services.join(phone=NUMBER)
    notice = ExpiryNotice.objects.create(account=member, expires_on=datetime.date(2027, 1, 1), points=500)
    send_expiry_notice(notice)
    (body,) = messages_in(sms_to_files, to=NUMBER)
    assert member.number in body and "500" in body
