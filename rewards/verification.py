"""Joining by phone: a guest proves a phone number is hers with a code sent by text message
(o2o_site.sms, SMS_BACKEND), as a guest joining by e-mail proves her address with a link.

Rules (settings): a code is six random digits, valid REWARDS_PHONE_CODE_MINUTES (10), allows
REWARDS_PHONE_CODE_ATTEMPTS (5) wrong tries and is used once; a number gets at most
REWARDS_PHONE_CODES_PER_HOUR (3) codes an hour, so the shop cannot be made to flood a phone. Only
a keyed hash of the code is stored (HMAC-SHA256 with SECRET_KEY, the number and the row's id in
the key), so a copy of the table does not give codes away. Errors: RewardRefused, saying why."""

import datetime
import hmac
import secrets
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from o2o_site.sms import send_sms

from .models import PhoneVerification, RewardAccount
from .services import AlreadyMember, RewardRefused, e164_or_blank, join

CODE_DIGITS = 6
HASH_SALT = "rewards.phone-code"


def _hash(verification_id: int, phone: str, code: str) -> str:
    return salted_hmac(HASH_SALT, f"{verification_id}:{phone}:{code}", algorithm="sha256").hexdigest()


def checked_phone(value: str) -> str:
    """A phone number as typed, as E.164; RewardRefused when it is not a valid number."""
    phone = e164_or_blank(value)
    if not phone:
        raise RewardRefused(
            _("“%(value)s” is not a phone number we can text: give it with its country code, such as +354 555 1234.")
            % {"value": (value or "").strip()[:32]}
        )
    return phone


def send_join_code(*, phone: str, language: str, now: datetime.datetime | None = None) -> PhoneVerification:
    """Text a new code to `phone` (as typed; checked_phone) for joining. Returns the verification
    (its id goes in the guest's session). Raises RewardRefused for a number that is not valid or
    that had REWARDS_PHONE_CODES_PER_HOUR codes in the last hour. The message goes after commit."""
    phone = checked_phone(phone)
    now = now or timezone.now()
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    with transaction.atomic():
        # One request at a time per number (a transaction-level advisory lock: there is no row to
        # lock yet), so two at once cannot both pass the hourly limit.
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":  # SQLite (the embedded defaults) has one writer anyway
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"rewards.phone:{phone}"])
        recent = PhoneVerification.objects.filter(phone=phone, created_at__gt=now - datetime.timedelta(hours=1))
        if recent.count() >= settings.REWARDS_PHONE_CODES_PER_HOUR:
            raise RewardRefused(_("Too many codes were sent to this number. Try again in an hour."))
        verification = PhoneVerification.objects.create(
            phone=phone,
            code_hash="",
            language=language,
            expires_at=now + datetime.timedelta(minutes=settings.REWARDS_PHONE_CODE_MINUTES),
        )
        verification.code_hash = _hash(verification.pk, phone, code)
        PhoneVerification.objects.filter(pk=verification.pk).update(code_hash=verification.code_hash)
        transaction.on_commit(partial(_text_code, phone=phone, code=code, language=language))
    return verification


def _text_code(*, phone: str, code: str, language: str) -> None:
    with translation.override(language):
        body = _("%(code)s is your code to join %(shop)s rewards. It works for %(minutes)s minutes.") % {
            "code": code,
            "shop": settings.SHOP_NAME,
            "minutes": settings.REWARDS_PHONE_CODE_MINUTES,
        }
    send_sms(to=phone, body=body)


def join_with_code(*, verification_id: int, code: str, now: datetime.datetime | None = None) -> RewardAccount:
    """The guest typed the code she was texted: she is a member now with that number (or already
    was: the same account). Raises RewardRefused for a wrong code (the try is counted, and kept
    when refused), an expired or used code, or one with no tries left; nothing else is written."""
    now = now or timezone.now()
    code = "".join((code or "").split())
    refusal = None
    with transaction.atomic():
        verification = PhoneVerification.objects.select_for_update().filter(pk=verification_id).first()
        if verification is None or verification.used_at is not None:
            raise RewardRefused(_("This code has been used or is not valid. Ask for a new one."))
        if verification.expires_at <= now:
            raise RewardRefused(_("This code has expired. Ask for a new one."))
        if verification.attempts >= settings.REWARDS_PHONE_CODE_ATTEMPTS:
            raise RewardRefused(_("Too many wrong codes. Ask for a new one."))
        if not hmac.compare_digest(verification.code_hash, _hash(verification.pk, verification.phone, code)):
            PhoneVerification.objects.filter(pk=verification.pk).update(attempts=verification.attempts + 1)
            left = settings.REWARDS_PHONE_CODE_ATTEMPTS - verification.attempts - 1
            # The try is counted in this transaction, which commits; the refusal is raised after it.
            refusal = (
                ngettext(
                    "That is not the code we sent. %(left)s try left.",
                    "That is not the code we sent. %(left)s tries left.",
                    left,
                )
                % {"left": left}
                if left
                else _("Too many wrong codes. Ask for a new one.")
            )
        else:
            PhoneVerification.objects.filter(pk=verification.pk).update(used_at=now)
            try:
                return join(phone=verification.phone, language=verification.language)
            except AlreadyMember as already:
                return already.account
    raise RewardRefused(refusal)
