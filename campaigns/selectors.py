"""Reads of campaigns: the figures a manager sees (one aggregate query per page)."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from .models import Campaign, CampaignRecipient, RecipientStatus


@dataclass(frozen=True)
class CampaignFigures:
    recipients: int
    waiting: int
    sent: int
    failed: int
    unconfirmed: int
    skipped: int
    opened: int
    redeemed: int


FIGURES = {
    "recipients_total": Count("recipients"),
    "waiting": Count("recipients", filter=Q(recipients__status__in=(RecipientStatus.PENDING, RecipientStatus.SENDING))),
    "sent": Count("recipients", filter=Q(recipients__status=RecipientStatus.SENT)),
    "failed": Count("recipients", filter=Q(recipients__status=RecipientStatus.FAILED)),
    "unconfirmed": Count("recipients", filter=Q(recipients__status=RecipientStatus.UNCONFIRMED)),
    "skipped": Count("recipients", filter=Q(recipients__status=RecipientStatus.SKIPPED)),
    "opened": Count("recipients", filter=Q(recipients__opened_at__isnull=False)),
}


def with_figures(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """The campaigns with their figures as attributes (recipients_total, waiting, sent, failed,
    unconfirmed, skipped, opened, redeemed), counted in the same query."""
    return campaigns.annotate(**FIGURES, **redeemed_annotation())


def redeemed_annotation() -> dict:
    """How many of a campaign's recipients redeemed its coupon (below, once coupons are on)."""
    from django.db.models import Value

    return {"redeemed": Value(0)}


def figures_of(campaign: Campaign) -> CampaignFigures:
    row = with_figures(Campaign.objects.filter(pk=campaign.pk)).values(*FIGURES, "redeemed").get()
    return CampaignFigures(
        recipients=row["recipients_total"],
        waiting=row["waiting"],
        sent=row["sent"],
        failed=row["failed"],
        unconfirmed=row["unconfirmed"],
        skipped=row["skipped"],
        opened=row["opened"],
        redeemed=row["redeemed"],
    )


def recipients_of(campaign: Campaign) -> QuerySet[CampaignRecipient]:
    return CampaignRecipient.objects.filter(campaign=campaign).order_by("pk")
