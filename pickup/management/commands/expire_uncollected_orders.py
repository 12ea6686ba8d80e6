from django.core.management.base import BaseCommand

from pickup.reminders import expire_uncollected_orders


class Command(BaseCommand):
    help = (
        "Cancel every ready order not collected within its store's days, releasing its reserved stock "
        "and e-mailing the shopper (what Celery beat runs every few minutes). Safe to run again."
    )

    def handle(self, *args, **options):
        report = expire_uncollected_orders()
        if report.done:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Cancelled {len(report.done)} uncollected order(s), their units back on sale: "
                    f"{', '.join(report.done)}."
                )
            )
        else:
            self.stdout.write("No uncollected orders are due to be cancelled.")
        if report.skipped:
            self.stdout.write(f"Skipped {report.skipped} order(s) collected or cancelled meanwhile.")
