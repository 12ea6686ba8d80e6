"""Queue the notifications the broker never got (the outbox relay), once or in a loop.

Celery beat runs the same relay every NOTIFICATION_RELAY_INTERVAL seconds; this command is for
operators (after an outage, from cron, or as a process of its own with --loop).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from orders.notifications.relay import relay_notifications


class Command(BaseCommand):
    help = "Queue pending notifications that were never queued (or whose task was lost) and recover lost workers."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep relaying until stopped.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.NOTIFICATION_RELAY_INTERVAL,
            help="Seconds between passes with --loop (default NOTIFICATION_RELAY_INTERVAL).",
        )

    def handle(self, *args, loop, interval, **options):
        while True:
            report = relay_notifications()
            self.stdout.write(
                f"queued {report.queued}, still waiting {report.waiting}, recovered {report.recovered}"
                + (" (broker unreachable)" if report.broker_down else "")
            )
            if not loop:
                return
            time.sleep(interval)
