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
from django.utils.html import escape
from django.utils.translation import gettext as _

from o2o_site.dates import format_date

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


# Per-recipient values go into a message rendered once per language (MessageTemplates): the
# templates see these markers, which HTML escaping leaves as they are.
LINK_MARK = "__o2o_campaign_link__"
UNSUBSCRIBE_MARK = "__o2o_campaign_unsubscribe__"
EXTRA_MARK = "__o2o_campaign_extra_{}__"


class MessageTemplates:
    """A campaign's text and HTML rendered once per language (a chunk's recipients share them):
    rendering both templates costs far more than the rest of a message."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self._rendered: dict[tuple[str, int], tuple[str, str]] = {}

    def rendered(self, language: str, extra_count: int) -> tuple[str, str]:
        key = (language, extra_count)
        if key not in self._rendered:
            context = {
                "campaign": self.campaign,
                "body": self.campaign.body_in(language),
                "link": LINK_MARK,
                "unsubscribe_url": UNSUBSCRIBE_MARK,
                "shop_name": settings.SHOP_NAME,
                "extra": [EXTRA_MARK.format(number) for number in range(extra_count)],
            }
            with translation.override(language):
                self._rendered[key] = (
                    render_to_string("campaigns/email/campaign.txt", context),
                    render_to_string("campaigns/email/campaign.html", context),
                )
        return self._rendered[key]


def build_message(
    *,
    campaign: Campaign,
    recipient: CampaignRecipient,
    connection=None,
    templates: MessageTemplates | None = None,
) -> EmailMultiAlternatives:
    """The e-mail of `campaign` to `recipient`, in the recipient's language (English where the
    campaign has no text in it). `templates`: the chunk's renderings, shared between messages."""
    templates = templates or MessageTemplates(campaign)
    unsubscribe_url = absolute(
        reverse(
            "campaigns:unsubscribe",
            args=[unsubscribe_token(consent_id=recipient.consent_id, campaign_id=campaign.pk)],
        )
    )
    link = absolute(reverse("campaigns:open", args=[link_token(recipient.pk)]))
    with translation.override(recipient.language):
        extra = extra_lines(campaign=campaign, recipient=recipient)
    text, html = templates.rendered(recipient.language, len(extra))
    text = text.replace(LINK_MARK, link).replace(UNSUBSCRIBE_MARK, unsubscribe_url)
    html = html.replace(LINK_MARK, escape(link)).replace(UNSUBSCRIBE_MARK, escape(unsubscribe_url))
    for number, line in enumerate(extra):
        text = text.replace(EXTRA_MARK.format(number), line)
        html = html.replace(EXTRA_MARK.format(number), escape(line))
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
    """The recipient's coupon code and until when it is valid, in the active language; none
    without a coupon."""
    if recipient.code is None:
        return []
    lines = [
        _("Your code: %(code)s. Enter it at checkout, or show it at the till in our stores.")
        % {"code": recipient.code.display}
    ]
    if campaign.coupon.valid_until:
        lines.append(_("Valid until %(date)s.") % {"date": format_date(campaign.coupon.valid_until)})
    return lines


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
