from django.core.management.base import BaseCommand, CommandError

from catalog.imports import import_catalog_file
from o2o_site.csv_import import ImportRejected, ProgressLine


class Command(BaseCommand):
    help = (
        "Import products from a UTF-8 CSV file with the header sku,name,category,price,description,active "
        "(category is the category's slug; active is yes/no, empty means yes). Products are matched by SKU. "
        "All or nothing: any bad row rejects the whole file, with every problem listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file")

    def handle(self, *args, file, **options):
        try:
            result = import_catalog_file(path=file, progress=ProgressLine("Importing products", self.stderr._out))
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
                f"Imported {result.total} products from {file}: "
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
            )
        )
