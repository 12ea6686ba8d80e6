from django.core.management.base import BaseCommand, CommandError

from o2o_site.csv_import import ProgressLine
from stores.postcodes import PostcodeImportError, import_postcode_file


class Command(BaseCommand):
    help = (
        "Import postcode coordinates from a UTF-8 CSV file with the header "
        "country,postcode,place_name,latitude,longitude (e.g. stores/data/postcodes_is_no.csv). "
        "All or nothing: any bad row rejects the whole file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file")

    def handle(self, *args, file, **options):
        try:
            result = import_postcode_file(path=file, progress=ProgressLine("Importing postcodes", self.stderr._out))
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror or error}") from error
        except PostcodeImportError as error:
            for row_error in error.errors:
                self.stderr.write(f"{file}: {row_error}")
            raise CommandError(f"{len(error.errors)} problem(s) found in {file}; nothing was imported.") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.total} postcodes from {file}: "
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
            )
        )
