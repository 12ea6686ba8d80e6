"""Consent and campaigns: every write of this app goes through these functions.

Consent (Shopify's emailMarketingConsent, M3AAWG's opt-in levels): a shopper subscribes on their
account page, at checkout (a tick box, unticked) or in a store (staff record it with the store).
With EMAIL_CONSENT_DOUBLE_OPT_IN (the default) a subscription is *pending* until the owner of the
address opens the signed link of the confirmation e-mail (confirmed opt-in); without it, it is
subscribed at once (single opt-in). Unsubscribing needs no login: the signed link in every campaign
e-mail, or the mail client's one-click POST (RFC 8058). Each change is a ConsentEvent row.
"""

import datetime
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from coupons.models import Coupon
from coupons.selectors import live_uses
from o2o_site.dates import format_datetime
from orders.models import Order
from stores.models import Store

from .audience import audience_of
from .models import (
    Audience,
    Campaign,
    CampaignStatus,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    EmailConsent,
    OptInLevel,
)

CONFIRM_SALT = "campaigns.consent.confirm"
UNSUBSCRIBE_SALT = "campaigns.consent.unsubscribe"
LINK_SALT = "campaigns.recipient.link"
# A confirmation link is good for a week (M3AAWG advises a short-lived confirmation request).
CONFIRMATION_MAX_AGE = datetime.timedelta(days=7)
# A pending address is sent one confirmation e-mail per this long, however often it is entered.
CONFIRMATION_RESEND_AFTER = datetime.timedelta(minutes=10)


class ConsentError(Exception):
    """Bad consent input (an invalid address, an in-store consent without a store)."""


class ConsentLinkInvalid(Exception):
    """A confirmation or unsubscribe link that was altered, has expired, or no longer applies."""


class CampaignError(Exception):
    """A campaign cannot be queued or cancelled as asked; the message says why."""


def normalise_email(email: str) -> str:
    """Addresses are compared in lower case, without surrounding spaces."""
    return (email or "").strip().lower()


def consent_of(email: str) -> EmailConsent | None:
    return EmailConsent.objects.filter(email=normalise_email(email)).select_related("store").first()


def subscribe(
    *,
    email: str,
    source: ConsentSource,
    language: str,
    store: Store | None = None,
    user: User | None = None,
    recorded_by: User | None = None,
    now: datetime.datetime | None = None,
) -> EmailConsent:
    """Record that `email` asked for campaign e-mails, where (`source`, and `store` when in a
    store) and by whom; returns the consent. Already subscribed: nothing changes (the first
    provenance stays on record).

    Double opt-in (EMAIL_CONSENT_DOUBLE_OPT_IN): the consent becomes pending and a confirmation
    e-mail with a signed link goes out after commit (at most one per CONFIRMATION_RESEND_AFTER);
    otherwise it is subscribed at once, level single. Raises ConsentError for an invalid address,
    or an in-store consent without its store.
    """
    address = normalise_email(email)
    try:
        validate_email(address)
    except ValidationError as error:
        raise ConsentError(_("Enter a valid e-mail address.")) from error
    if source == ConsentSource.STORE and store is None:
        raise ConsentError(_("Say in which store the shopper gave consent."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    now = now or timezone.now()
    double = settings.EMAIL_CONSENT_DOUBLE_OPT_IN
    wanted = {
        "state": ConsentState.PENDING if double else ConsentState.SUBSCRIBED,
        "level": OptInLevel.UNKNOWN if double else OptInLevel.SINGLE,
        "source": source,
        "store": store,
        "language": language,
        "updated_at": now,
    }
    with transaction.atomic():
        consent = _locked(address)
        if consent is None:
            try:
                with transaction.atomic():
                    consent = EmailConsent.objects.create(email=address, user=user, **wanted)
            except IntegrityError:  # the same address subscribed at this very moment elsewhere
                consent = _locked(address)
            else:
                _record(consent, from_state="", source=source, store=store, by=recorded_by, at=now)
                if double:
                    _queue_confirmation(consent, now=now)
                return consent
        if consent.state == ConsentState.SUBSCRIBED:
            if user is not None and consent.user_id is None:
                consent.user = user
                consent.save(update_fields=["user"])
            return consent
        from_state = consent.state
        recently_asked = (
            from_state == ConsentState.PENDING
            and consent.confirmation_sent_at is not None
            and consent.confirmation_sent_at > now - CONFIRMATION_RESEND_AFTER
        )
        for field, value in wanted.items():
            setattr(consent, field, value)
        consent.user = user or consent.user
        consent.save()
        _record(consent, from_state=from_state, source=source, store=store, by=recorded_by, at=now)
        if double and not recently_asked:
            _queue_confirmation(consent, now=now)
    return consent


def _queue_confirmation(consent: EmailConsent, *, now: datetime.datetime) -> None:
    from . import tasks  # tasks import this module

    EmailConsent.objects.filter(pk=consent.pk).update(confirmation_sent_at=now)
    transaction.on_commit(partial(tasks.send_confirmation.delay, consent_id=consent.pk))


def confirmation_token(consent: EmailConsent) -> str:
    """The signed, dated token of the confirmation link: it names the consent and the moment it
    became pending, so a link from an older request confirms nothing after a later change."""
    return signing.dumps({"c": consent.pk, "at": consent.updated_at.isoformat()}, salt=CONFIRM_SALT)


def confirm_subscription(*, token: str, now: datetime.datetime | None = None) -> EmailConsent:
    """The owner of the address opened the confirmation link: pending becomes subscribed, level
    confirmed. Opening it again changes nothing. Raises ConsentLinkInvalid for an altered or
    expired link (CONFIRMATION_MAX_AGE), or one the consent has changed since (unsubscribed)."""
    try:
        claim = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired as expired:
        raise ConsentLinkInvalid(_("This confirmation link has expired. Subscribe again for a new one.")) from expired
    except signing.BadSignature as bad:
        raise ConsentLinkInvalid(_("This confirmation link is not valid.")) from bad
    now = now or timezone.now()
    with transaction.atomic():
        consent = EmailConsent.objects.select_for_update().filter(pk=claim.get("c")).first()
        if consent is None:
            raise ConsentLinkInvalid(_("This confirmation link is not valid."))
        if consent.state == ConsentState.SUBSCRIBED and consent.level == OptInLevel.CONFIRMED:
            return consent
        if consent.state != ConsentState.PENDING or consent.updated_at.isoformat() != claim.get("at"):
            raise ConsentLinkInvalid(_("This confirmation link no longer applies. Subscribe again for a new one."))
        consent.state = ConsentState.SUBSCRIBED
        consent.level = OptInLevel.CONFIRMED
        consent.updated_at = now
        consent.save(update_fields=["state", "level", "updated_at"])
        _record(consent, from_state=ConsentState.PENDING, source=ConsentSource.CONFIRMATION, at=now)
    return consent


def unsubscribe_token(*, consent_id: int, campaign_id: int | None = None) -> str:
    """The signed token of an unsubscribe link. It does not expire: RFC 8058 and the mailbox
    providers expect an unsubscribe link in an old e-mail to keep working."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"c": consent_id, "m": campaign_id})


def consent_of_unsubscribe_token(token: str) -> tuple[EmailConsent, Campaign | None]:
    """(consent, campaign the e-mail was from) of an unsubscribe link; ConsentLinkInvalid if altered."""
    try:
        claim = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except signing.BadSignature as bad:
        raise ConsentLinkInvalid(_("This unsubscribe link is not valid.")) from bad
    consent = EmailConsent.objects.filter(pk=claim.get("c")).first()
    if consent is None:
        raise ConsentLinkInvalid(_("This unsubscribe link is not valid."))
    campaign = Campaign.objects.filter(pk=claim["m"]).first() if claim.get("m") else None
    return consent, campaign


def unsubscribe(
    *,
    consent: EmailConsent,
    source: ConsentSource,
    campaign: Campaign | None = None,
    by: User | None = None,
    store: Store | None = None,
    now: datetime.datetime | None = None,
) -> EmailConsent:
    """Withdraw consent (GDPR art. 7(3): as easy as giving it). Idempotent: unsubscribing an
    unsubscribed address changes nothing. Recipients of campaigns still being sent are skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        consent = EmailConsent.objects.select_for_update().get(pk=consent.pk)
        if consent.state == ConsentState.UNSUBSCRIBED:
            return consent
        from_state = consent.state
        consent.state = ConsentState.UNSUBSCRIBED
        consent.updated_at = now
        consent.save(update_fields=["state", "updated_at"])
        _record(consent, from_state=from_state, source=source, store=store, by=by, at=now, campaign=campaign)
    return consent


def _locked(address: str) -> EmailConsent | None:
    return EmailConsent.objects.select_for_update().filter(email=address).first()


def _record(
    consent: EmailConsent,
    *,
    from_state: str,
    source: ConsentSource,
    store: Store | None = None,
    by: User | None = None,
    at: datetime.datetime,
    campaign: Campaign | None = None,
) -> ConsentEvent:
    return ConsentEvent.objects.create(
        consent=consent,
        from_state=from_state,
        to_state=consent.state,
        level=consent.level,
        source=source,
        store=store,
        recorded_by=by,
        campaign=campaign,
        at=at,
    )


# Campaigns ---------------------------------------------------------------------------------------


def queue_campaign(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Start sending a draft: it becomes "preparing", and after commit a task writes its
    recipients (set-based, in batches: campaigns.sending.prepare) and then paces the sending.
    Raises CampaignError when it is not a draft, its audience lacks its store or category, or its
    coupon cannot go out now (coupon_refusal: counted over the audience as it is now)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise CampaignError(
                _("Campaign “%(name)s” is %(status)s; only a draft can be sent.")
                % {"name": campaign.name, "status": campaign.get_status_display().lower()}
            )
        if campaign.audience == Audience.NEAR_STORE and campaign.store_id is None:
            raise CampaignError(_("Choose the store the audience is near."))
        if campaign.audience == Audience.BOUGHT_IN_CATEGORY and campaign.category_id is None:
            raise CampaignError(_("Choose the category the audience bought in."))
        if campaign.coupon_id:
            refusal = coupon_refusal(
                coupon=campaign.coupon,
                recipients=audience_of(campaign).count(),
                rate_per_minute=campaign.rate_per_minute,
            )
            if refusal:
                raise CampaignError(refusal)
        campaign.status = CampaignStatus.PREPARING
        campaign.queued_at = timezone.now()
        campaign.next_tick_at = None
        campaign.save(update_fields=["status", "queued_at", "next_tick_at"])
        from . import tasks

        transaction.on_commit(partial(tasks.prepare_campaign.delay, campaign_id=campaign.pk))
    return campaign


def coupon_refusal(
    *, coupon: Coupon, recipients: int, rate_per_minute: int, now: datetime.datetime | None = None
) -> str | None:
    """Why `coupon` cannot go with a campaign sent from `now` to `recipients` addresses at
    `rate_per_minute` e-mails a minute, or None when it can. Its codes must be usable by every
    recipient from the first e-mail to the last: the coupon active, valid from `now`, still valid
    when the last e-mail goes out (recipients ÷ rate minutes from now), and with uses left under
    its total limit (coupons.selectors.live_uses). A limit smaller than the audience is allowed:
    "the first 100 to come" is an offer shops make. The message names the coupon and the date."""
    now = now or timezone.now()
    names = {"coupon": coupon.name}
    if not coupon.is_active:
        return _("The coupon “%(coupon)s” is switched off: its codes could not be used.") % names
    if coupon.valid_from > now:
        return _(
            "The coupon “%(coupon)s” is valid only from %(date)s: codes sent now could not be used yet. "
            "Choose another coupon, or send the campaign then."
        ) % {**names, "date": format_datetime(coupon.valid_from)}
    if coupon.valid_until is not None and coupon.valid_until <= now:
        return _("The coupon “%(coupon)s” ended on %(date)s.") % {**names, "date": format_datetime(coupon.valid_until)}
    last_email = now + datetime.timedelta(minutes=recipients / max(rate_per_minute, 1))
    if coupon.valid_until is not None and coupon.valid_until <= last_email:
        return _(
            "The coupon “%(coupon)s” ends on %(date)s, before the campaign is sent: %(recipients)s e-mails at "
            "%(rate)s a minute go out until about %(until)s."
        ) % {
            **names,
            "date": format_datetime(coupon.valid_until),
            "recipients": recipients,
            "rate": rate_per_minute,
            "until": format_datetime(last_email),
        }
    if coupon.limit_total is not None and live_uses(coupon) >= coupon.limit_total:
        return _("The coupon “%(coupon)s” has been used up (%(limit)s uses).") % {**names, "limit": coupon.limit_total}
    return None


def cancel_campaign(*, campaign: Campaign) -> Campaign:
    """Stop a campaign: no more e-mails go out (a chunk already handed to a worker finishes its
    current message). Raises CampaignError when it is already sent or cancelled."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
            raise CampaignError(
                _("Campaign “%(name)s” is already %(status)s.")
                % {"name": campaign.name, "status": campaign.get_status_display().lower()}
            )
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
    return campaign


def subscribe_at_checkout(*, order: Order, user: User | None, language: str) -> EmailConsent:
    """The shopper ticked "send me offers" when placing `order` (O2O_CHECKOUT_CONSENT; called in
    the checkout's transaction): her order's e-mail address is subscribed with source "web:
    checkout", pending until she opens the confirmation e-mail (double opt-in), as subscribe()."""
    return subscribe(email=order.contact_email, source=ConsentSource.CHECKOUT, language=language, user=user)
