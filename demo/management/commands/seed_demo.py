import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import COUNTRY_CURRENCIES
from demo.services import DemoCurrencyMismatch, demo_country, seed_demo


class Command(BaseCommand):
    help = (
        "Fill the database with the demo shop: stores in Reykjavík and Oslo, 200+ products with "
        "pictures, stock, postcodes, one manager login per store and a superuser. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="remove the demo stores (and their orders), products, categories and logins first",
        )
        parser.add_argument(
            "--country",
            choices=sorted(COUNTRY_CURRENCIES),
            help="IS: prices in whole krónur (SHOP_CURRENCY=ISK); NO: kroner with øre (SHOP_CURRENCY=NOK). "
            "Default: the country of SHOP_CURRENCY.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (the demo logins have published passwords: never on a real shop)",
        )

    def handle(self, *args, reset, force, country, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates logins whose passwords are published in the README, so it runs only "
                "with DEBUG=true. Use --force on a throwaway database."
            )
        started = time.monotonic()
        country = country or demo_country()
        try:
            report = seed_demo(reset=reset, country=country)
        except DemoCurrencyMismatch as mismatch:
            raise CommandError(str(mismatch)) from None
        elapsed = time.monotonic() - started

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop ({country}, prices in {COUNTRY_CURRENCIES[country]}) ready in {elapsed:.1f} s: "
                f"{report.stores_created} stores, "
                f"{report.categories_created} categories, {report.products_created} products, "
                f"{report.sizes_created} sizes of clothing and footwear, "
                f"{report.images_created} images and {report.stock_levels_created} stock counts added; "
                f"postcodes: {report.postcodes.created} added, {report.postcodes.updated} updated."
            )
        )
        self.stdout.write("")
        self.stdout.write("Demo logins (DEMO ONLY, never use these passwords anywhere real):")
        width = max(len(login.username) for login in report.logins)
        for login in report.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.password:<20}  {login.role}")
        self.stdout.write("Managers and the admin log in at /admin/ on the shop's address.")
