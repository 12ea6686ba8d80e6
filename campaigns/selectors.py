"""Reads of campaigns: the figures a manager sees (one aggregate query for a page of campaigns)."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from coupons.models import Redemption, RedemptionStatus
from orders.models import Channel

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
    redeemed_in_store: int = 0
    redeemed_online: int = 0


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
    """How many of a campaign's recipients used their code (a live redemption: online with an
    order not cancelled, or at a till), as a subquery beside the counts."""
    redeemed = (
        CampaignRecipient.objects.filter(campaign=OuterRef("pk"), code__redemptions__status=RedemptionStatus.REDEEMED)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk", distinct=True))
        .values("n")
    )
    return {"redeemed": Coalesce(Subquery(redeemed), 0)}


def redemptions_by_channel(campaign: Campaign) -> dict[str, int]:
    """{channel: recipients who redeemed there} (coupons' channels: web, in store)."""
    return dict(
        Redemption.objects.filter(
            status=RedemptionStatus.REDEEMED,
            code__in=CampaignRecipient.objects.filter(campaign=campaign, code__isnull=False).values("code"),
        )
        .order_by()
        .values_list("channel")
        .annotate(n=Count("code", distinct=True))
    )


def figures_of(campaign: Campaign) -> CampaignFigures:
    row = with_figures(Campaign.objects.filter(pk=campaign.pk)).values(*FIGURES, "redeemed").get()
    by_channel = redemptions_by_channel(campaign) if row["redeemed"] else {}
    return CampaignFigures(
        recipients=row["recipients_total"],
        waiting=row["waiting"],
        sent=row["sent"],
        failed=row["failed"],
        unconfirmed=row["unconfirmed"],
        skipped=row["skipped"],
        opened=row["opened"],
        redeemed=row["redeemed"],
        redeemed_in_store=by_channel.get(Channel.IN_STORE, 0),
        redeemed_online=by_channel.get(Channel.WEB, 0),
    )


def recipients_of(campaign: Campaign) -> QuerySet[CampaignRecipient]:
    return CampaignRecipient.objects.filter(campaign=campaign).order_by("pk")
