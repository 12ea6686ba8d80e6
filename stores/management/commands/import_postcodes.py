from o2o_site.csv_import import CsvImportCommand
from stores.postcodes import import_postcode_file


class Command(CsvImportCommand):
    help = (
        "Import postcode coordinates from a UTF-8 CSV file with the header "
        "country,postcode,place_name,latitude,longitude (e.g. stores/data/postcodes_is_no.csv). "
        "All or nothing: any bad row rejects the whole file, with every problem listed."
    )
    what = "postcodes"

    def import_file(self, *, path, progress):
        return import_postcode_file(path=path, progress=progress)

    def summary(self, result):
        return f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
