from o2o_site.csv_import import CsvImportCommand
from stores.stock_import import import_stock_file


class Command(CsvImportCommand):
    help = (
        "Import stock counts from a UTF-8 CSV file with the header store,sku,on_hand (store is the store's "
        "slug). A count below the units reserved for open orders is an error. All or nothing: any bad row "
        "rejects the whole file, with every problem listed."
    )
    what = "stock counts"

    def import_file(self, *, path, progress):
        return import_stock_file(path=path, progress=progress)

    def summary(self, result):
        return f"{result.updated} updated, {result.created} new"
