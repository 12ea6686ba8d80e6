"""The three CSV imports an operator runs (catalog, stock counts, postcode table), as commands.

Each is all or nothing: a file with bad rows (missing values, bad numbers, unknown SKUs, stores or
categories, a missing column, the wrong encoding) is refused whole with every bad line named, and
nothing changes; a good file is written in one transaction (a failure in its second batch leaves
nothing of the first) with a progress bar on the terminal.
"""

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import translation

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from stores.models import PostcodeLocation, StockLevel
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

ROWS = 600  # more than one batch of 500


class Terminal(io.StringIO):
    """What an operator's terminal looks like to the command."""

    def isatty(self):
        return True


@dataclass
class CsvImport:
    command: str
    what: str
    header: str
    good_rows: list[str]  # ROWS rows, all new
    bad_rows: dict[int, str]  # {line: row}; line 2 is a good row changing existing data
    missing_column_header: str
    snapshot: object  # () -> everything the import could change

    def file(self, tmp_path, body, *, header=None, encoding="utf-8"):
        path = tmp_path / f"{self.command}.csv"
        path.write_bytes(((header or self.header) + body).encode(encoding))
        return path


def catalog_import():
    knitwear = CategoryFactory(name="Knitwear", slug="knitwear")
    ProductFactory(sku="LOPI-1", name="Lopi mittens", price=Decimal("4990"), category=knitwear)

    def snapshot():
        with translation.override("en"):
            return sorted(Product.objects.values_list("sku", "name", "price", "is_active", "category__slug"))

    return CsvImport(
        command="import_catalog",
        what="products",
        header="sku,name,category,price,description,active\n",
        good_rows=[f"NEW-{n},Húfa {n},knitwear,{n}990,Prjónuð,yes\n" for n in range(ROWS)],  # whole krónur
        bad_rows={
            2: "LOPI-1,Lopi mittens,knitwear,5490,,yes\n",
            3: "HAT-1,Hat,knitwear,,,yes\n",  # missing price
            4: "HAT-2,Hat,knitwear,12kr,,yes\n",  # not a number
            5: "HAT-3,Hat,no-such-category,10,,yes\n",  # unknown category
            6: "HAT-4,Hat,knitwear,-5,,yes\n",  # negative
            7: "HAT-5,Hat,knitwear,10,,yes,surplus\n",  # more values than columns
        },
        missing_column_header="sku,name,category\n",
        snapshot=snapshot,
    )


def stock_import():
    laugavegur = StoreFactory(slug="laugavegur")
    StoreFactory(slug="kringlan")
    knitwear = CategoryFactory(slug="knitwear")
    products = Product.objects.bulk_create(
        ProductFactory.build(sku=f"SKU-{n}", slug=f"product-{n}", category=knitwear) for n in range(ROWS // 2 + 1)
    )
    StockLevelFactory(store=laugavegur, product=products[0], on_hand=10, reserved=4)

    def snapshot():
        return sorted(StockLevel.objects.values_list("store__slug", "product__sku", "on_hand", "reserved"))

    return CsvImport(
        command="import_stock",
        what="stock counts",
        header="store,sku,on_hand\n",
        good_rows=[f"kringlan,SKU-{n},{n}\n" for n in range(ROWS // 2)]
        + [f"laugavegur,SKU-{n},{n}\n" for n in range(1, ROWS // 2 + 1)],
        bad_rows={
            2: "laugavegur,SKU-0,7\n",
            3: "laugavegur,,1\n",  # missing SKU
            4: "laugavegur,SKU-1,2.5\n",  # not a whole number
            5: "laugavegur,NOPE-9,1\n",  # unknown SKU
            6: "akureyri,SKU-2,1\n",  # unknown store
            7: "kringlan,SKU-3,-1\n",  # negative
        },
        missing_column_header="store,sku\n",
        snapshot=snapshot,
    )


def postcode_import():
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Before", latitude=Decimal("64.000000"))

    def snapshot():
        return sorted(PostcodeLocation.objects.values_list("country", "postcode", "place_name", "latitude"))

    return CsvImport(
        command="import_postcodes",
        what="postcodes",
        header="country,postcode,place_name,latitude,longitude\n",
        good_rows=[f"NO,{n:04d},Ósló {n},59.9,10.7\n" for n in range(1000, 1000 + ROWS)],
        bad_rows={
            2: "IS,101,Reykjavík,64.1466,-21.9426\n",
            3: "IS,105,Reykjavík,,-21.9\n",  # missing latitude
            4: "IS,107,Reykjavík,sixty-four,-21.9\n",  # not a number
            5: "IS,108,Reykjavík,640,-21.9\n",  # out of range
            6: "NO,150,Oslo,59.9,10.7\n",  # not a Norwegian postcode
            7: "IS,109,Reykjavík,64.1,-21.9,surplus\n",  # more values than columns
        },
        missing_column_header="country,postcode,place_name\n",
        snapshot=snapshot,
    )


IMPORTS = {"catalog": catalog_import, "stock": stock_import, "postcodes": postcode_import}


@pytest.fixture(params=IMPORTS)
def csv_import(request):
    return IMPORTS[request.param]()


def test_a_good_file_is_written_with_a_progress_bar_on_the_terminal(csv_import, tmp_path):
    # given a good file of 600 rows
    path = csv_import.file(tmp_path, "".join(csv_import.good_rows))
    terminal, out = Terminal(), io.StringIO()

    # when an operator imports it at a terminal
    call_command(csv_import.command, str(path), stdout=out, stderr=terminal)

    # then a progress bar is drawn batch by batch, and the summary counts every row
    bar = terminal.getvalue()
    label = f"\rImporting {csv_import.what} ["
    assert f"{label}....................] 0/{ROWS} (0%)" in bar
    assert f"{label}################....] 500/{ROWS} (83%)" in bar
    assert bar.endswith(f"{label}####################] {ROWS}/{ROWS} (100%)\n")
    assert out.getvalue().startswith(f"Imported {ROWS} {csv_import.what} from {path}: ")


def test_a_file_imported_into_a_log_gets_no_progress_bar(csv_import, tmp_path):
    path = csv_import.file(tmp_path, "".join(csv_import.good_rows))
    log = io.StringIO()

    call_command(csv_import.command, str(path), stdout=io.StringIO(), stderr=log)

    assert log.getvalue() == ""


def test_a_file_with_bad_rows_is_refused_whole_with_every_bad_line_named(csv_import, tmp_path):
    # given a file whose first row is good (it would change existing data) and the others bad
    before = csv_import.snapshot()
    path = csv_import.file(tmp_path, "".join(csv_import.bad_rows[line] for line in sorted(csv_import.bad_rows)))
    err = io.StringIO()

    # when it is imported
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(csv_import.command, str(path), stdout=io.StringIO(), stderr=err)

    # then every bad line is named with its reason, the good one is not, and nothing changed
    named = {int(line.split(": line ")[1].split(":")[0]) for line in err.getvalue().splitlines()}
    assert named == set(csv_import.bad_rows) - {2}
    assert all(line.startswith(f"{path}: line ") for line in err.getvalue().splitlines())
    assert csv_import.snapshot() == before


def test_a_missing_column_is_refused_on_line_one(csv_import, tmp_path):
    before = csv_import.snapshot()
    path = csv_import.file(tmp_path, "x,y,z\n", header=csv_import.missing_column_header)
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(csv_import.command, str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith(f"{path}: line 1: the header lacks ")
    assert csv_import.snapshot() == before


def test_a_file_in_the_wrong_encoding_is_refused_with_the_line(csv_import, tmp_path):
    # given a file saved as Latin-1 (its Icelandic and Norwegian letters are not UTF-8)
    before = csv_import.snapshot()
    rows = [*csv_import.good_rows[:3], "ý,þ,ø\n"]
    path = csv_import.file(tmp_path, "".join(rows), encoding="latin-1")
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(csv_import.command, str(path), stdout=io.StringIO(), stderr=err)

    assert " is not UTF-8; save the file as UTF-8" in err.getvalue()
    assert csv_import.snapshot() == before


def test_a_database_failure_in_the_second_batch_leaves_nothing_of_the_first(csv_import, tmp_path, monkeypatch):
    # given a good file of 600 rows, and a database that fails the second batch it is sent
    before = csv_import.snapshot()
    path = csv_import.file(tmp_path, "".join(csv_import.good_rows))
    batches = []
    bulk_create = QuerySet.bulk_create

    def second_batch_fails(queryset, objs, *args, **kwargs):
        batches.append(len(objs))
        if len(batches) == 2:
            raise DatabaseError("could not extend file: No space left on device")
        return bulk_create(queryset, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", second_batch_fails)

    # when it is imported
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(csv_import.command, str(path), stdout=io.StringIO(), stderr=io.StringIO())

    # then the first batch was written, and rolled back with the rest
    assert batches[0] == 500
    assert csv_import.snapshot() == before
