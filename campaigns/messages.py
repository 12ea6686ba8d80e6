"""A campaign's e-mail to one recipient, and the double opt-in confirmation e-mail.

Every campaign e-mail carries the unsubscribe link twice: in its text, and in the headers
`List-Unsubscribe: <https://…/email/unsubscribe/TOKEN/>` and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` (RFC 2369, RFC 8058), which mail clients show as their own
"Unsubscribe" and POST to without the shopper opening anything (Gmail and Yahoo require both of
bulk senders since 2024). Its Message-ID is fixed per recipient, so the mail server can be asked
about it after a lost worker, and a client that deduplicates shows a repeated message once.
"""

from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Campaign, CampaignRecipient, EmailConsent
from .services import LINK_SALT, confirmation_token, unsubscribe_token


def link_token(recipient_id: int) -> str:
    """The signed id of a recipient, in the tracked link of their e-mail."""
    return signing.Signer(salt=LINK_SALT).sign(str(recipient_id))


def recipient_of_link_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=LINK_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def message_id_for(recipient: CampaignRecipient) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<campaign-{recipient.campaign_id}-recipient-{recipient.pk}@{domain}>"


def build_message(*, campaign: Campaign, recipient: CampaignRecipient, connection=None) -> EmailMultiAlternatives:
    """The e-mail of `campaign` to `recipient`, in the recipient's language (English where the
    campaign has no text in it)."""
    unsubscribe_url = absolute(
        reverse(
            "campaigns:unsubscribe", args=[unsubscribe_token(consent_id=recipient.consent_id, campaign_id=campaign.pk)]
        )
    )
    context = {
        "campaign": campaign,
        "body": campaign.body_in(recipient.language),
        "link": absolute(reverse("campaigns:open", args=[link_token(recipient.pk)])),
        "unsubscribe_url": unsubscribe_url,
        "shop_name": settings.SHOP_NAME,
        "extra": extra_lines(campaign=campaign, recipient=recipient),
    }
    with translation.override(recipient.language):
        text = render_to_string("campaigns/email/campaign.txt", context)
        html = render_to_string("campaigns/email/campaign.html", context)
    message = EmailMultiAlternatives(
        subject=campaign.subject_in(recipient.language),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": message_id_for(recipient),
            "Precedence": "bulk",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def extra_lines(*, campaign: Campaign, recipient: CampaignRecipient) -> list[str]:
    """Lines the campaign adds to the message beside its text (its coupon code, below)."""
    return []


def build_confirmation(consent: EmailConsent) -> EmailMultiAlternatives:
    """The double opt-in e-mail: one link that confirms the subscription; ignoring it subscribes nothing."""
    link = absolute(reverse("campaigns:confirm", args=[confirmation_token(consent)]))
    with translation.override(consent.language):
        subject = _("Confirm your subscription to %(shop)s's offers") % {"shop": settings.SHOP_NAME}
        text = render_to_string(
            "campaigns/email/confirm.txt", {"link": link, "consent": consent, "shop_name": settings.SHOP_NAME}
        )
    return EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[consent.email]
    )
