from django.core.management.base import BaseCommand

from pickup.reminders import send_pickup_reminders


class Command(BaseCommand):
    help = (
        "E-mail a reminder for every ready order not collected after its store's reminder time "
        "(what Celery beat runs every few minutes). Safe to run again: each order is reminded once."
    )

    def handle(self, *args, **options):
        report = send_pickup_reminders()
        if report.done:
            self.stdout.write(
                self.style.SUCCESS(f"Sent {len(report.done)} pickup reminder(s): {', '.join(report.done)}.")
            )
        else:
            self.stdout.write("No ready orders are due a reminder.")
        if report.skipped:
            self.stdout.write(f"Skipped {report.skipped} order(s) collected or reminded meanwhile.")
