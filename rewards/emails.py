"""The rewards e-mails: the link that makes a guest a member, and the notice that points expire
soon. Plain text, in the member's language."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from o2o_site.dates import format_date
from o2o_site.money import format_money
from o2o_site.sms import send_sms

from .models import ExpiryNotice


def send_join_link(*, email: str, link: str, language: str) -> None:
    """To a guest who asked to join: open `link` to prove the address is hers and become a member."""
    with translation.override(language):
        send_mail(
            _("Join %(shop)s rewards") % {"shop": settings.SHOP_NAME},
            render_to_string("rewards/email/join_link.txt", {"link": link, "shop_name": settings.SHOP_NAME}),
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )


def send_expiry_notice(notice: ExpiryNotice) -> None:
    """To a member: `notice.points` expire on `notice.expires_on` unless she uses them (by
    e-mail, or by text message to a member who joined by phone)."""
    account = notice.account
    with translation.override(account.language):
        context = {
            "points": format_money(notice.points, settings.SHOP_CURRENCY, language=account.language),
            "expires_on": format_date(notice.expires_on),
            "number": account.number,
            "member_link": settings.SITE_URL.rstrip("/") + account.get_absolute_url(),
            "shop_name": settings.SHOP_NAME,
        }
        if not account.email:  # a member who joined by phone is told by text message
            send_sms(
                to=account.phone,
                body=_("%(points)s of your %(shop)s points expire on %(day)s. Member number %(number)s.")
                % {
                    "points": context["points"],
                    "shop": settings.SHOP_NAME,
                    "day": context["expires_on"],
                    "number": account.number,
                },
            )
            return
        send_mail(
            _("Your points expire on %(day)s") % {"day": format_date(notice.expires_on)},
            render_to_string("rewards/email/expiry_notice.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [account.email],
        )
