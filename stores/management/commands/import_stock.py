from django.core.management.base import BaseCommand, CommandError

from o2o_site.csv_import import ImportRejected, ProgressLine
from stores.stock_import import import_stock_file


class Command(BaseCommand):
    help = (
        "Import stock counts from a UTF-8 CSV file with the header store,sku,on_hand (store is the store's "
        "slug). A count below the units reserved for open orders is an error. All or nothing: any bad row "
        "rejects the whole file, with every problem listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file")

    def handle(self, *args, file, **options):
        try:
            result = import_stock_file(path=file, progress=ProgressLine("Importing stock counts", self.stderr._out))
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
        except ImportRejected as rejected:
            for row_error in rejected.errors:
                self.stderr.write(f"{file}: {row_error}")
            raise CommandError(
                f"{len(rejected.errors)} problem(s) found in {file}; nothing was imported."
            ) from rejected
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.total} stock counts from {file}: {result.updated} updated, {result.created} new."
            )
        )
