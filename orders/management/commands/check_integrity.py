"""Check that stock, reservations, orders and notifications agree; exit 1 with a report if not."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from orders.integrity import check_integrity


class Command(BaseCommand):
    help = (
        "Verify that every stock record's reserved units equal what open orders hold, that on hand >= "
        "reserved >= 0, that every ready or collected order has its ready-for-pickup e-mail, and that no "
        "notification is stuck, failed or unconfirmed, and what O2O_INTEGRITY_CHECKS add (returns: stock moved "
        "equals the units returned per condition, refunds never above what was captured; deliveries: each with "
        "its details, states agreeing, no window holding more deliveries than its places). "
        "Exits with status 1 and a report when anything is off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stuck-minutes",
            type=float,
            default=15,
            help="A notification pending or sending for longer than this counts as stuck (default 15).",
        )

    def handle(self, *args, stuck_minutes, **options):
        report = check_integrity(stuck_after=datetime.timedelta(minutes=stuck_minutes))
        self.stdout.write(
            f"Checked {report.stock_levels} stock records, {report.open_orders} open orders, "
            f"{report.notifications} notifications."
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Everything reconciles."))
            return
        for problem in report.problems:
            self.stdout.write(f"- {problem}")
        raise CommandError(f"{len(report.problems)} problem(s) found.", returncode=1)
