"""manage.py roll_up_figures --from 2026-11-01 --to 2026-11-30: the dashboard's roll-up rows for a
range of days, on demand, with a progress bar (README, "The O2O dashboard")."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from stores.models import Store

from ...rollups import roll_up


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-30") from None


class Command(BaseCommand):
    help = (
        "Compute the dashboard's daily roll-up rows (analytics.DailyStoreFigures) for every day from --from "
        "to --to (both included, each store's own calendar), for every store or the --store slugs given. "
        "Safe to run again: each day's rows are rewritten whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--store", dest="stores", action="append", default=[], help="a store's slug (repeat)")
        parser.add_argument(
            "--days-per-step", type=int, default=7, help="days computed per step of the progress bar (default 7)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")

    def handle(self, *args, start, end, stores, days_per_step, no_progress, **options):
        start, end = _date(start), _date(end)
        if end < start:
            raise CommandError("--to is before --from")
        if days_per_step < 1:
            raise CommandError("--days-per-step must be 1 or more")
        chosen = None
        if stores:
            chosen = list(Store.objects.filter(slug__in=stores))
            unknown = sorted(set(stores) - {store.slug for store in chosen})
            if unknown:
                raise CommandError(f"no store with the slug {', '.join(unknown)}")
        total_days = (end - start).days + 1
        written = 0
        with tqdm(
            total=total_days, unit="day", desc="Rolling up", file=self.stderr, disable=no_progress, ascii=True
        ) as bar:
            step_start = start
            while step_start <= end:
                step_end = min(step_start + datetime.timedelta(days=days_per_step - 1), end)
                written += roll_up(start=step_start, end=step_end, stores=chosen)
                bar.update((step_end - step_start).days + 1)
                step_start = step_end + datetime.timedelta(days=1)
        self.stdout.write(f"{written} rows written for {total_days} days ({start.isoformat()} to {end.isoformat()}).")
