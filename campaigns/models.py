"""E-mail consent with its provenance, and campaigns sent to those who gave it.

Consent follows Shopify's `emailMarketingConsent` (state, opt-in level per M3AAWG, when it last
changed, the store where it was given) and keeps every change as a ConsentEvent row: who gave or
withdrew it, where, how, when — the record GDPR art. 7(1) asks a shop to be able to show.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ConsentState(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class OptInLevel(models.TextChoices):
    """M3AAWG's levels: single (the address was given), confirmed (its owner clicked the link
    in a confirmation e-mail: double opt-in), unknown (no record of how)."""

    SINGLE = "single", _("Single opt-in")
    CONFIRMED = "confirmed", _("Confirmed opt-in")
    UNKNOWN = "unknown", _("Unknown")


class ConsentSource(models.TextChoices):
    """Where the shopper gave or withdrew consent."""

    ACCOUNT = "account", _("Web: account page")
    CHECKOUT = "checkout", _("Web: checkout")
    STORE = "store", _("In store")
    CONFIRMATION = "confirmation", _("Web: confirmation link")
    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link in an e-mail")
    ONE_CLICK = "one_click", _("One-click unsubscribe (mail client)")


class EmailConsent(models.Model):
    """Whether one e-mail address may receive campaigns: one row per address (lower case)."""

    email = models.EmailField(_("e-mail"), unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        related_name="email_consents",
        on_delete=models.SET_NULL,
    )
    state = models.CharField(_("state"), max_length=16, choices=ConsentState.choices)
    level = models.CharField(_("opt-in level"), max_length=16, choices=OptInLevel.choices, default=OptInLevel.UNKNOWN)
    source = models.CharField(_("given at"), max_length=20, choices=ConsentSource.choices)
    # The store where consent was given (Shopify's sourceLocationId); empty when given online.
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    # Campaign e-mails to this address are in this language.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    updated_at = models.DateTimeField(_("consent updated at"))
    confirmation_sent_at = models.DateTimeField(_("confirmation e-mail sent at"), null=True, blank=True)

    class Meta:
        ordering = ["email"]
        verbose_name = _("e-mail consent")
        verbose_name_plural = _("e-mail consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="consent_email_lower",
                violation_error_message=_("Type the e-mail address in lower case."),
            ),
            models.CheckConstraint(
                condition=~Q(source="store") | Q(store__isnull=False), name="consent_in_store_names_the_store"
            ),
        ]
        indexes = [models.Index(fields=["state", "id"], name="consent_state_idx")]

    def __str__(self):
        return self.email


class ConsentEvent(models.Model):
    """One change of an address's consent: the ledger behind EmailConsent, never edited."""

    consent = models.ForeignKey(
        EmailConsent, verbose_name=_("consent"), related_name="events", on_delete=models.CASCADE
    )
    from_state = models.CharField(_("from"), max_length=16, choices=ConsentState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=ConsentState.choices)
    level = models.CharField(_("opt-in level"), max_length=16, choices=OptInLevel.choices)
    source = models.CharField(_("where"), max_length=20, choices=ConsentSource.choices)
    store = models.ForeignKey(
        "stores.Store", verbose_name=_("store"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    # The member of staff who recorded it in a store, or the shopper signed in; empty for a link.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    campaign = models.ForeignKey(
        "Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")

    def __str__(self):
        return f"{self.consent}: {self.get_to_state_display()}"


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone subscribed")
    NEAR_STORE = "near_store", _("Subscribed shoppers near a store")
    BOUGHT_IN_CATEGORY = "bought_in_category", _("Subscribed shoppers who bought in a category")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PREPARING = "preparing", _("Preparing the recipients")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    """An e-mail to an audience of subscribed shoppers, in English, Icelandic and Norwegian.

    Each recipient gets the message in their consent's language (English when that text is
    empty). Sent by campaigns.sending at `rate_per_minute`, each recipient once.
    """

    name = models.CharField(_("name"), max_length=120)
    audience = models.CharField(_("audience"), max_length=24, choices=Audience.choices, default=Audience.EVERYONE)
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("near store"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("For 'near a store': shoppers whose store, or the store where they subscribed, is this close."),
    )
    radius_km = models.PositiveIntegerField(_("within (km)"), default=25)
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("For 'bought in a category': shoppers who received an order with a product in it."),
    )
    # Each recipient gets a single-use code of this coupon of their own (coupons.services.issue_codes),
    # so "redeemed" counts exactly the recipients whose code was used, online or at a till.
    coupon = models.ForeignKey(
        "coupons.Coupon",
        verbose_name=_("coupon"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("Each recipient gets a single-use code of this coupon in the e-mail."),
    )
    subject_en = models.CharField(_("subject (English)"), max_length=150)
    subject_is = models.CharField(_("subject (Icelandic)"), max_length=150, blank=True)
    subject_nb = models.CharField(_("subject (Norwegian)"), max_length=150, blank=True)
    body_en = models.TextField(_("message (English)"))
    body_is = models.TextField(_("message (Icelandic)"), blank=True)
    body_nb = models.TextField(_("message (Norwegian)"), blank=True)
    rate_per_minute = models.PositiveIntegerField(
        _("e-mails per minute"), default=600, help_text=_("How fast the campaign is sent.")
    )
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    # The pacer's clock: since when it sends, and how many recipients it has claimed since, or
    # let pass unclaimed (the rate allows rate_per_minute × minutes since then; time without
    # claims beyond one tick counts as spent, so it is never sent as a burst).
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    claimed_count = models.PositiveIntegerField(_("claimed"), default=0)
    # The pacer's lease (campaigns.sending.pace): the next tick is due then; a lapsed lease is a
    # lost pacer, which beat starts again.
    next_tick_at = models.DateTimeField(_("next batch at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("any_audience", "Can send campaigns to any audience, of any store")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_per_minute__gte=1),
                name="campaign_rate_positive",
                violation_error_message=_("The sending rate must be at least 1 e-mail a minute."),
            ),
            models.CheckConstraint(
                condition=~Q(audience="near_store") | Q(store__isnull=False),
                name="campaign_near_store_names_store",
                violation_error_message=_("Choose the store for a campaign to shoppers near a store."),
            ),
            models.CheckConstraint(
                condition=~Q(audience="bought_in_category") | Q(category__isnull=False),
                name="campaign_bought_in_names_category",
                violation_error_message=_("Choose the category for a campaign to shoppers who bought in a category."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("admin:campaigns_campaign_change", args=[self.pk])

    def subject_in(self, language: str) -> str:
        return getattr(self, f"subject_{language}", "") or self.subject_en

    def body_in(self, language: str) -> str:
        return getattr(self, f"body_{language}", "") or self.body_en


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The worker stopped while handing the e-mail to the mail server, which cannot say whether
    # it took it: not sent again (that could send it twice); counted apart.
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    # Unsubscribed between queueing and sending: nothing sent.
    SKIPPED = "skipped", _("Skipped (unsubscribed)")


class CampaignRecipient(models.Model):
    """One address a campaign goes to, unique per (campaign, consent); written set-based when the
    campaign is queued (campaigns.sending.prepare), claimed and sent in chunks."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), related_name="recipients", on_delete=models.CASCADE
    )
    consent = models.ForeignKey(EmailConsent, verbose_name=_("consent"), related_name="+", on_delete=models.CASCADE)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"), max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claim_token = models.CharField(_("claimed by"), max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    send_started_at = models.DateTimeField(_("handed to the mail server at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    # The recipient's own single-use code of the campaign's coupon (issued when the recipients
    # are written).
    code = models.OneToOneField(
        "coupons.CouponCode",
        verbose_name=_("coupon code"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # The first time the tracked link in the e-mail was opened, and how often.
    opened_at = models.DateTimeField(_("link opened at"), null=True, blank=True)
    opens = models.PositiveIntegerField(_("link opens"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "consent"], name="recipient_once_per_campaign"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="recipient_campaign_status_idx"),
        ]

    def __str__(self):
        return self.email
