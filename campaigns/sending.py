"""Sending a campaign: recipients written set-based, claimed in chunks at the campaign's rate,
each sent once, resumed after a lost worker. Runs on PostgreSQL (production, the benchmark) and
on SQLite (`make run`, tasks in-process).

1. prepare(): the campaign's recipients are written by INSERT … SELECT over the audience, one
   statement (and one task) per PREPARE_BATCH consent ids (ON CONFLICT DO NOTHING: a step that
   died half way is simply run again), with their coupon codes (a batch per statement, matched to
   the recipients of that range still without one: on PostgreSQL by one UPDATE … FROM unnest,
   elsewhere by one executemany). No recipient row passes through Python, only one batch's ids.
2. pace(): one tick of the pacer. The campaign's row lock serialises ticks. Time since sending
   began is cut into slots of CAMPAIGN_TICK_SECONDS; by the end of the current slot,
   rate_per_minute × elapsed minutes recipients may have been claimed, and the tick claims the
   difference (a token bucket holding one tick's worth: slots without claims are not saved up
   for a burst; and nothing while two ticks' worth are still in flight, so a slow mail server is
   never flooded), in chunks of CAMPAIGN_CHUNK_SIZE: one UPDATE … WHERE id IN (SELECT … LIMIT n)
   per chunk, stamping a claim token. The subquery locks its rows FOR UPDATE SKIP LOCKED where
   the database can (PostgreSQL: two pacers or a recovery never wait on, nor take, the same
   rows); SQLite has one writer at a time, so the statement is whole on its own there. Each chunk
   is one task. The Celery task runs a tick at the start of every slot, however late in its slot
   the last one ran; beat starts the pacer again if its chain was lost (a killed worker), and a
   second chain does no harm: the quota is by the clock.
3. send_chunk(): the chunk's rows, by its token. Per recipient: `send_started_at` is committed,
   the message handed to the mail server, then the row marked sent, each write conditional on
   the token (the mark and the next recipient's start share one UPDATE: a round trip a message).
   A chunk whose worker died is taken over once its claim is CAMPAIGN_CLAIM_TIMEOUT old
   (recover_stale_claims): rows never started go back to waiting; a row started and not
   marked is decided by the mail server when the e-mail backend can say (delivery_status, like
   orders.notifications), else it is "unconfirmed" — never guessed, never sent twice.
"""

import datetime
import logging
import math
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from coupons.models import CouponCode
from coupons.services import generate_batch

from .audience import audience_of
from .messages import MessageTemplates, build_message, message_id_for
from .models import Campaign, CampaignRecipient, CampaignStatus, ConsentState, EmailConsent, RecipientStatus

logger = logging.getLogger(__name__)

PREPARE_BATCH = 10_000
ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Tick:
    """What one pacer tick did: chunk tokens claimed (to hand to workers), whether sending is over,
    when the next tick is due."""

    chunks: list[str]
    claimed: int
    finished: bool
    recovered: int = 0
    next_at: datetime.datetime | None = None  # when the next tick is due (the start of its slot)


@dataclass(frozen=True)
class Prepared:
    """What one prepare() step did: the consent id it went up to, and whether all are written."""

    through: int
    done: bool


def prepare(*, campaign_id: int, after: int | None = None) -> Prepared | None:
    """Write the recipients of a "preparing" campaign whose consent ids follow `after`, one
    PREPARE_BATCH range per call (a task each, well within the task time limit); after the last,
    mark the campaign "sending". None when it is not preparing. `after` None: go on from the
    highest consent id already written (a restarted preparation). Safe to run again: written rows
    are kept, none twice, and each written recipient has its code."""
    campaign = Campaign.objects.select_related("coupon").filter(pk=campaign_id, status=CampaignStatus.PREPARING).first()
    if campaign is None:
        return None
    if after is None:
        after = (
            CampaignRecipient.objects.filter(campaign=campaign)
            .order_by("-consent_id")
            .values_list("consent_id", flat=True)
            .first()
            or 0
        )
    highest = EmailConsent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    through = after + PREPARE_BATCH
    if after < highest:
        selected, params = (
            audience_of(campaign).values("pk").filter(pk__gt=after, pk__lte=through).query.sql_with_params()
        )
        table = CampaignRecipient._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, consent_id, email, language, status, attempts, claim_token, "
                f"last_error, opens) "
                f"SELECT %s, c.id, c.email, c.language, %s, 0, '', '', 0 FROM {EmailConsent._meta.db_table} c "
                f"WHERE c.id IN ({selected}) ON CONFLICT (campaign_id, consent_id) DO NOTHING",
                [campaign.pk, RecipientStatus.PENDING, *params],
            )
            if campaign.coupon_id:
                # The range's recipients without a code: those just written (a step run again
                # finds none left, as its first run's codes were committed with its rows).
                waiting = list(
                    CampaignRecipient.objects.filter(
                        campaign=campaign, consent_id__gt=after, consent_id__lte=through, code__isnull=True
                    )
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if waiting:
                    _give_codes(campaign=campaign, recipient_ids=waiting, cursor=cursor)
            # The lease of this preparation: beat restarts one whose next step is this late.
            Campaign.objects.filter(pk=campaign.pk).update(
                next_tick_at=timezone.now() + datetime.timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
            )
    if through < highest:
        return Prepared(through=through, done=False)
    count = CampaignRecipient.objects.filter(campaign=campaign).count()
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PREPARING).update(
        status=CampaignStatus.SENDING,
        recipient_count=count,
        sending_since=timezone.now(),
        claimed_count=0,
        next_tick_at=None,
    )
    logger.info("campaign %s: %s recipients", campaign.pk, count)
    return Prepared(through=through, done=True)


def _give_codes(*, campaign: Campaign, recipient_ids: list[int], cursor) -> None:
    """A single-use code of the campaign's coupon for each recipient just written: one batch of
    codes (coupons.services.generate_batch), matched to the recipients in one UPDATE, in the
    transaction that wrote them. Holds one batch's ids (PREPARE_BATCH at most), never more."""
    batch = generate_batch(
        coupon=campaign.coupon, count=len(recipient_ids), label=f"{campaign.name} (campaign {campaign.pk})"
    )
    code_ids = list(CouponCode.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True))
    table = CampaignRecipient._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {table} r SET code_id = m.code_id "
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS m(recipient_id, code_id) WHERE r.id = m.recipient_id",
            [recipient_ids, code_ids],
        )
    else:  # SQLite (the demo): no arrays; one prepared statement run per pair, in the same transaction
        cursor.executemany(
            f"UPDATE {table} SET code_id = %s WHERE id = %s", list(zip(code_ids, recipient_ids, strict=True))
        )


def pace(*, campaign_id: int, now: datetime.datetime | None = None) -> Tick | None:
    """One tick: claim what the rate allows now; finish the campaign when nothing is left.
    Returns None when the campaign is not sending, or another pacer chain just ticked."""
    now = now or timezone.now()
    tick = settings.CAMPAIGN_TICK_SECONDS
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status != CampaignStatus.SENDING:
            return None
        if campaign.next_tick_at and campaign.next_tick_at > now + datetime.timedelta(seconds=tick / 2):
            return None  # another chain is ahead of this one: let it pace alone
        recovered = recover_stale_claims(campaign=campaign, now=now)
        # What is in flight is at most a few ticks' worth of rows; what waits is only asked
        # whether there is any (counting it read every waiting row's index entry each tick:
        # 130 ms with 100 000 waiting, which made every tick that much late).
        recipients = CampaignRecipient.objects.filter(campaign=campaign)
        in_flight = recipients.filter(status=RecipientStatus.SENDING).count()
        if in_flight == 0 and not recipients.filter(status=RecipientStatus.PENDING).exists():
            campaign.status = CampaignStatus.SENT
            campaign.finished_at = now
            campaign.next_tick_at = None
            campaign.save(update_fields=["status", "finished_at", "next_tick_at"])
            return Tick(chunks=[], claimed=0, finished=True, recovered=recovered)
        per_tick = max(1, math.ceil(campaign.rate_per_minute * tick / 60))
        # Ticks keep to a grid of whole ticks since sending began, and a tick claims its slot's
        # worth however late in the slot it runs (a busy worker, the pacer's own queries):
        # measured from `now`, each tick's lateness was dropped by the bucket and 1.1 s between
        # ticks sent 0.9 × the rate. A tick a hair before its slot (clock rounding) counts for it.
        slot = math.floor((now - campaign.sending_since).total_seconds() / tick + 1e-6)
        allowed = math.floor(campaign.rate_per_minute * (slot + 1) * tick / 60)
        if allowed - campaign.claimed_count > per_tick:
            # Slots without claims (a lost pacer, a stopped worker) are not saved up for a
            # burst: the bucket holds one tick's worth.
            campaign.claimed_count = allowed - per_tick
        quota = min(allowed - campaign.claimed_count, 2 * per_tick - in_flight)
        chunks, claimed = [], 0
        chunk_size = settings.CAMPAIGN_CHUNK_SIZE
        while claimed < quota:
            token = uuid.uuid4().hex
            size = min(chunk_size, quota - claimed)
            taken = _claim_chunk(campaign=campaign, token=token, size=size, now=now)
            if taken:
                chunks.append(token)
                claimed += taken
            if taken < size:
                break  # nothing more waits (or all of it is locked by another pacer)
        campaign.claimed_count += claimed
        campaign.next_tick_at = campaign.sending_since + datetime.timedelta(seconds=(slot + 1) * tick)
        campaign.save(update_fields=["claimed_count", "next_tick_at"])
    return Tick(chunks=chunks, claimed=claimed, finished=False, recovered=recovered, next_at=campaign.next_tick_at)


def _claim_chunk(*, campaign: Campaign, token: str, size: int, now: datetime.datetime) -> int:
    """Stamp `token` on up to `size` waiting recipients (the lowest ids not locked by another
    transaction where the database locks rows) in one UPDATE; returns how many. Runs inside the
    pacer's transaction."""
    waiting = (
        CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.PENDING)
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values("pk")[:size]
    )
    return CampaignRecipient.objects.filter(pk__in=waiting).update(
        status=RecipientStatus.SENDING,
        claim_token=token,
        claimed_at=now,
        send_started_at=None,
        attempts=F("attempts") + 1,
    )


def send_chunk(*, campaign_id: int, token: str) -> int:
    """Send the recipients claimed with `token`; returns how many e-mails went out. The same task
    delivered again after its worker died settles what that worker left (see the module)."""
    campaign = Campaign.objects.select_related("coupon").filter(pk=campaign_id).first()
    rows = list(
        CampaignRecipient.objects.filter(campaign_id=campaign_id, claim_token=token, status=RecipientStatus.SENDING)
        .select_related("consent", "code")
        .order_by("pk")
    )
    if campaign is None or not rows:
        return 0
    if campaign.status != CampaignStatus.SENDING:
        _release(rows, token=token)  # cancelled: the rows stay unsent
        return 0
    sent = 0
    templates = MessageTemplates(campaign)
    handed_over = None  # the recipient last handed to the mail server, not yet marked sent
    mail = get_connection()
    with mail:
        for recipient in rows:
            # This very chunk ran before and its worker died while handing this one over.
            if recipient.send_started_at is not None and settle_started(recipient, connection=mail):
                continue
            if recipient.consent.state != ConsentState.SUBSCRIBED:
                _finish(recipient, token=token, status=RecipientStatus.SKIPPED)
                continue
            # One statement marks the previous recipient sent and records this one as being handed
            # over: one round trip per message, the same two facts committed in the same order.
            started = _mark_sent_and_start(sent=handed_over, start=recipient, token=token)
            handed_over = None
            if not started:
                continue  # taken over by a recovery meanwhile
            try:
                message = build_message(campaign=campaign, recipient=recipient, connection=mail, templates=templates)
                message.send()
            except Exception as error:  # the mail server or the message: recorded on the row
                logger.warning("campaign %s recipient %s: %s", campaign_id, recipient.pk, error)
                _fail(recipient, token=token, error=error)
                continue
            handed_over = recipient
            sent += 1
    if handed_over is not None:
        _finish(handed_over, token=token, status=RecipientStatus.SENT)
    return sent


def _mark_sent_and_start(*, sent: CampaignRecipient | None, start: CampaignRecipient, token: str) -> bool:
    """Mark `sent` sent and set `start`'s send_started_at, both only while `token` holds their
    claim, in one autocommitted UPDATE. Returns whether `start` may be handed over."""
    table = CampaignRecipient._meta.db_table
    done = sent.pk if sent is not None else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET "
            f"status = CASE WHEN id = %(done)s THEN %(sent)s ELSE status END, "
            f"sent_at = CASE WHEN id = %(done)s THEN %(now)s ELSE sent_at END, "
            f"last_error = CASE WHEN id = %(done)s THEN '' ELSE last_error END, "
            f"send_started_at = CASE WHEN id = %(start)s THEN %(now)s ELSE send_started_at END "
            f"WHERE id IN (%(done)s, %(start)s) AND claim_token = %(token)s AND status = %(sending)s RETURNING id",
            {
                "done": done,
                "start": start.pk,
                "sent": RecipientStatus.SENT,
                "sending": RecipientStatus.SENDING,
                "now": timezone.now(),
                "token": token,
            },
        )
        updated = {row[0] for row in cursor.fetchall()}
    if sent is not None and done not in updated:
        logger.error("campaign recipient %s was sent but its claim had been taken over", done)
    return start.pk in updated


def _finish(recipient: CampaignRecipient, *, token: str, status: RecipientStatus) -> None:
    done = CampaignRecipient.objects.filter(pk=recipient.pk, claim_token=token, status=RecipientStatus.SENDING).update(
        status=status, sent_at=timezone.now() if status == RecipientStatus.SENT else None, last_error=""
    )
    if not done and status == RecipientStatus.SENT:
        logger.error("campaign recipient %s was sent but its claim had been taken over", recipient.pk)


def _fail(recipient: CampaignRecipient, *, token: str, error: Exception) -> None:
    """A refused message waits for another chunk, until CAMPAIGN_MAX_ATTEMPTS; then it is failed."""
    final = recipient.attempts >= settings.CAMPAIGN_MAX_ATTEMPTS
    CampaignRecipient.objects.filter(pk=recipient.pk, claim_token=token, status=RecipientStatus.SENDING).update(
        status=RecipientStatus.FAILED if final else RecipientStatus.PENDING,
        claim_token="",
        claimed_at=None,
        send_started_at=None,
        last_error=f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
    )


def _release(rows: list[CampaignRecipient], *, token: str) -> None:
    CampaignRecipient.objects.filter(
        pk__in=[row.pk for row in rows], claim_token=token, status=RecipientStatus.SENDING, send_started_at=None
    ).update(status=RecipientStatus.PENDING, claim_token="", claimed_at=None)


def settle_started(recipient: CampaignRecipient, *, connection=None) -> bool:
    """A row handed to the mail server by a worker that died before marking it: True when it is
    settled (sent, or unconfirmed for a manager to judge), False when it must be sent again (the
    mail server says it never got it)."""
    lookup = getattr(connection or get_connection(), "delivery_status", None)
    outcome = None
    if lookup is not None:
        try:
            outcome = lookup(message_id_for(recipient))
        except Exception:
            logger.exception("campaign recipient %s: the mail server could not be asked", recipient.pk)
    if outcome is False:
        CampaignRecipient.objects.filter(pk=recipient.pk).update(send_started_at=None)
        recipient.send_started_at = None
        return False
    CampaignRecipient.objects.filter(pk=recipient.pk).update(
        status=RecipientStatus.SENT if outcome else RecipientStatus.UNCONFIRMED,
        sent_at=recipient.send_started_at if outcome else None,
        last_error=""
        if outcome
        else "The worker stopped while handing this e-mail to the mail server; it may or may not have arrived.",
    )
    return True


def recover_stale_claims(*, campaign: Campaign, now: datetime.datetime) -> int:
    """Take over chunks whose claim is older than CAMPAIGN_CLAIM_TIMEOUT (their worker is gone):
    unstarted rows wait again, started ones are settled (settle_started). Returns how many rows."""
    timeout = datetime.timedelta(seconds=settings.CAMPAIGN_CLAIM_TIMEOUT)
    unstarted_rows = CampaignRecipient.objects.filter(
        campaign=campaign, status=RecipientStatus.SENDING, claimed_at__lt=now - timeout, send_started_at=None
    ).select_for_update(skip_locked=True)
    unstarted = CampaignRecipient.objects.filter(pk__in=unstarted_rows.values("pk")).update(
        status=RecipientStatus.PENDING, claim_token="", claimed_at=None
    )
    started = list(
        CampaignRecipient.objects.select_for_update(skip_locked=True)
        .filter(campaign=campaign, status=RecipientStatus.SENDING, claimed_at__lt=now - timeout)
        .order_by("pk")[: settings.CAMPAIGN_CHUNK_SIZE]
    )
    mail = get_connection()
    for recipient in started:
        if not settle_started(recipient, connection=mail):
            CampaignRecipient.objects.filter(pk=recipient.pk).update(
                status=RecipientStatus.PENDING, claim_token="", claimed_at=None
            )
    return unstarted + len(started)


def lost_pacers(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of sending campaigns whose pacer missed its tick by far (its chain was lost), and of
    preparing campaigns queued a while ago: beat starts them again."""
    now = now or timezone.now()
    lapse = datetime.timedelta(seconds=max(5 * settings.CAMPAIGN_TICK_SECONDS, 5))
    return list(
        Campaign.objects.filter(
            Q(status=CampaignStatus.SENDING, next_tick_at__lt=now - lapse)
            | Q(status=CampaignStatus.SENDING, next_tick_at__isnull=True, sending_since__lt=now - lapse)
        ).values_list("pk", flat=True)
    )


def lost_preparations(*, now: datetime.datetime | None = None) -> list[int]:
    """Campaigns still "preparing" whose next step is overdue (its task was lost)."""
    now = now or timezone.now()
    lapse = datetime.timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    return list(
        Campaign.objects.filter(status=CampaignStatus.PREPARING)
        .filter(Q(next_tick_at__lt=now) | Q(next_tick_at__isnull=True, queued_at__lt=now - lapse))
        .values_list("pk", flat=True)
    )
