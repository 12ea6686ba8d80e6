from catalog.imports import import_catalog_file
from o2o_site.csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import products from a UTF-8 CSV file with the header sku,name,category,price,description,active "
        "(category is the category's slug; active is yes/no, empty means yes). Products are matched by SKU. "
        "All or nothing: any bad row rejects the whole file, with every problem listed."
    )
    what = "products"

    def import_file(self, *, path, progress):
        return import_catalog_file(path=path, progress=progress)

    def summary(self, result):
        return f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
