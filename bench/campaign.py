"""A campaign to 100 000 subscribed shoppers (issue 14): how long queueing takes (the recipients
written set-based by the worker, each with a single-use coupon code of their own), whether the
real Celery worker then sends at the configured rate, each recipient exactly once, and how much
memory the worker's processes needed at most (a sender that loaded every recipient would need
hundreds of MB).

E-mails go to bench.mail.TimestampingBackend (a Redis list of recipient and time; nothing sent).
"""

import datetime
import json
import time
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from campaigns.services import cancel_campaign, queue_campaign
from coupons.models import Coupon, CouponKind

from .mail import MAIL_LOG_KEY, mail_log


def seed_consents(*, count: int) -> float:
    """`count` subscribed addresses in one INSERT … SELECT (languages en, is, nb in turn). Seconds."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_campaignrecipient")
        cursor.execute("DELETE FROM campaigns_campaign")
        cursor.execute("DELETE FROM campaigns_consentevent")
        cursor.execute("DELETE FROM campaigns_emailconsent")
        cursor.execute(
            "INSERT INTO campaigns_emailconsent (email, state, level, source, language, updated_at) "
            "SELECT 'shopper' || n || '@bench.example', 'subscribed', 'confirmed', 'account', "
            "(ARRAY['en', 'is', 'nb'])[1 + n %% 3], now() FROM generate_series(1, %s) AS n",
            [count],
        )
        cursor.execute("ANALYZE campaigns_emailconsent")
    return time.monotonic() - started


def peak_memory_mb(pid: int) -> dict[int, float]:
    """Peak resident memory (VmHWM, MB) of the process `pid` and each of its children (the pool)."""
    found = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                found[current] = int(line.split()[1]) / 1024
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            pending.extend(int(child) for child in task.read_text().split())
    return found


def measure(*, recipients: int, rate_per_minute: int, worker_pid: int, window: float, timeout: float) -> dict:
    """Queue one campaign to `recipients` shoppers and follow its sending for `window` seconds
    (0: to the end, or `timeout` s), then cancel the rest and check what was sent."""
    seed_seconds = seed_consents(count=recipients)
    log = mail_log()
    log.delete(MAIL_LOG_KEY)
    # Each recipient gets a single-use code of this coupon, issued while queueing.
    coupon = Coupon.objects.create(
        name="Bench winter wool",
        kind=CouponKind.PERCENT,
        value=Decimal("15"),
        valid_from=timezone.now() - datetime.timedelta(days=1),
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    campaign = Campaign.objects.create(
        name="Bench campaign",
        coupon=coupon,
        subject_en="Winter wool, 20 % off",
        subject_is="Vetrarull, 20 % afsláttur",
        subject_nb="Vinterull, 20 % rabatt",
        body_en="Our winter wool is in.",
        body_is="Vetrarullin er komin.",
        body_nb="Vinterulla er kommet.",
        rate_per_minute=rate_per_minute,
    )
    queued_at = time.monotonic()
    queue_campaign(campaign=campaign)
    status = CampaignStatus.PREPARING
    while status == CampaignStatus.PREPARING and time.monotonic() - queued_at < timeout:
        time.sleep(0.1)
        status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()
    queue_seconds = time.monotonic() - queued_at
    samples = []  # (seconds since sending began, e-mails handed over)
    sending_began = time.monotonic()
    while time.monotonic() - queued_at < timeout and not (window and time.monotonic() - sending_began > window):
        handed_over = log.llen(MAIL_LOG_KEY)
        samples.append((time.monotonic() - sending_began, handed_over))
        status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()
        if status == CampaignStatus.SENT:
            break
        time.sleep(1)
    memory = peak_memory_mb(worker_pid)
    send_seconds = time.monotonic() - sending_began
    if status != CampaignStatus.SENT:
        cancel_campaign(campaign=campaign)
        # Chunks already handed to the worker finish (or give their rows back); then count.
        in_flight = CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.SENDING)
        deadline = time.monotonic() + 60
        while in_flight.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    # Only the campaign's own e-mails: the shop's other e-mails (a rush's order notifications still
    # going out through the same worker) go to the same log.
    subjects = {campaign.subject_en, campaign.subject_is, campaign.subject_nb}
    entries = [entry for entry in map(json.loads, log.lrange(MAIL_LOG_KEY, 0, -1)) if entry.get("subject") in subjects]
    addresses = [entry["to"] for entry in entries]
    times = sorted(entry["at"] for entry in entries)
    # The rate over the middle of the run (the first and last tenth left out: start-up, the tail).
    steady = times[len(times) // 10 : len(times) * 9 // 10] if len(times) > 20 else times
    steady_rate = (len(steady) - 1) / (steady[-1] - steady[0]) * 60 if len(steady) > 1 else 0.0
    # The most e-mails handed over in any one second (a burst beyond the rate would show here).
    busiest_second = 0
    start = 0
    for end in range(len(times)):
        while times[end] - times[start] >= 1.0:
            start += 1
        busiest_second = max(busiest_second, end - start + 1)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("pk")).order_by()
    )
    return {
        "recipients": recipients,
        "seed_seconds": seed_seconds,
        "queue_seconds": queue_seconds,
        "rate_per_minute": rate_per_minute,
        "steady_rate_per_minute": steady_rate,
        "busiest_second": busiest_second,
        "send_seconds": send_seconds,
        "finished": status == CampaignStatus.SENT,
        "window_seconds": window,
        "emails": len(addresses),
        "distinct_recipients": len(set(addresses)),
        "sent_rows": statuses.get(RecipientStatus.SENT, 0),
        "codes_issued": CampaignRecipient.objects.filter(campaign=campaign, code__isnull=False).count(),
        "failed_rows": statuses.get(RecipientStatus.FAILED, 0),
        "worker_peak_mb": max(memory.values()) if memory else None,
        "samples": samples[:: max(1, len(samples) // 50)],
    }
