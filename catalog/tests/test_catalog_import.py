"""Importing the catalog from CSV: a bad file changes nothing and names every bad row."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from catalog.imports import import_catalog_file
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from o2o_site.csv_import import ImportRejected, ProgressLine

pytestmark = pytest.mark.django_db

HEADER = "sku,name,category,price,description,active\n"


@pytest.fixture
def knitwear():
    return CategoryFactory(name="Knitwear", slug="knitwear")


def csv_file(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "catalog.csv"
    path.write_bytes(text.encode(encoding))
    return path


def snapshot():
    with translation.override("en"):
        return sorted((p.sku, p.name, p.price, p.is_active, p.category_id) for p in Product.objects.all())


def test_a_good_file_creates_and_updates_products_by_sku(tmp_path, knitwear, settings):
    # given a Norwegian shop (prices in kroner and øre) and a product already sold, whose price
    # changes in the file
    settings.SHOP_CURRENCY = "NOK"
    ProductFactory(sku="LOPI-1", name="Lopi mittens", price=Decimal("4990"), category=knitwear)
    path = csv_file(
        tmp_path,
        HEADER + "LOPI-1,Lopi mittens,knitwear,5490,Warm,yes\n"
        "HAT-1,Fisherman's hat,knitwear,3500.50,Grey wool,\n"
        'SCARF-1,"Scarf, long",knitwear,7900,,no\n',
    )

    result = import_catalog_file(path=path)

    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    with translation.override("en"):
        mittens, hat, scarf = (Product.objects.get(sku=sku) for sku in ("LOPI-1", "HAT-1", "SCARF-1"))
        assert mittens.price == Decimal("5490.00")
        assert (hat.name, hat.price, hat.is_active, hat.description) == (
            "Fisherman's hat",
            Decimal("3500.50"),
            True,
            "Grey wool",
        )
        assert (scarf.name, scarf.is_active) == ("Scarf, long", False)
    assert hat.slug and hat.slug != scarf.slug


def test_importing_the_same_file_again_changes_nothing(tmp_path, knitwear):
    path = csv_file(tmp_path, HEADER + "HAT-1,Hat,knitwear,3500,,yes\n")
    import_catalog_file(path=path)
    again = import_catalog_file(path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_a_file_with_bad_rows_is_rejected_whole_with_every_problem(tmp_path, knitwear):
    # given a catalog, and a file with one good row and many bad ones
    ProductFactory(sku="LOPI-1", name="Lopi mittens", price=Decimal("4990"), category=knitwear)
    before = snapshot()
    path = csv_file(
        tmp_path,
        HEADER + "NEW-1,Good product,knitwear,100,,yes\n"  # line 2: fine
        "LOPI-1,Lopi mittens,knitwear,-5,,yes\n"  # 3: negative price
        "BAD-2,Thing,knitwear,12kr,,yes\n"  # 4: not a number
        "BAD-3,Thing,no-such-category,10,,yes\n"  # 5: unknown category
        ",Thing,knitwear,10,,yes\n"  # 6: missing SKU
        "NEW-1,Again,knitwear,10,,yes\n"  # 7: duplicate SKU
        "BAD-4,Thing,knitwear,10.123,,yes\n"  # 8: three decimals
        "BAD-5,Thing,knitwear,NaN,,maybe\n"  # 9: not finite, bad active
        "BAD-6,Thing,knitwear,1e30,,yes\n"  # 10: huge
        "BAD-7,Thing,knitwear,10,,yes,extra\n",  # 11: more values than columns
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_catalog_file(path=path)

    # then every bad line is named with its reason, and nothing changed — not even the good row
    by_line = {}
    for error in rejected.value.errors:
        by_line.setdefault(error.line, []).append(error.message)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "between 0 and" in by_line[3][0]
    assert "is not a number" in by_line[4][0]
    assert "unknown category 'no-such-category'" in by_line[5][0]
    assert "missing sku" in by_line[6][0]
    assert "appears twice (first on line 2)" in by_line[7][0]
    assert "more than two decimals" in by_line[8][0]
    assert len(by_line[9]) == 2
    assert "between 0 and" in by_line[10][0]
    assert "more values than columns" in by_line[11][0]
    assert snapshot() == before


def test_a_missing_column_or_wrong_encoding_is_reported_on_its_line(tmp_path, knitwear):
    no_price = csv_file(tmp_path, "sku,name,category\nHAT-1,Hat,knitwear\n")
    with pytest.raises(ImportRejected) as missing:
        import_catalog_file(path=no_price)
    assert [(e.line, e.message) for e in missing.value.errors] == [(1, "the header lacks price")]

    latin1 = csv_file(
        tmp_path, HEADER + "HAT-1,Hattur,knitwear,10,,yes\nHAT-2,Prjónahúfa,knitwear,10,,yes\n", "latin-1"
    )
    with pytest.raises(ImportRejected) as encoding:
        import_catalog_file(path=latin1)
    assert encoding.value.errors[0].line == 3
    assert "not UTF-8" in encoding.value.errors[0].message
    assert Product.objects.count() == 0


def test_the_command_reports_rows_and_fails_or_succeeds(tmp_path, knitwear):
    bad = csv_file(tmp_path, HEADER + "HAT-1,Hat,nowhere,10,,yes\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_catalog", str(bad), stderr=err)
    assert "line 2: unknown category 'nowhere'" in err.getvalue()

    good = csv_file(tmp_path, HEADER + "HAT-1,Hat,knitwear,10,,yes\n")
    out = io.StringIO()
    call_command("import_catalog", str(good), stdout=out, stderr=io.StringIO())
    assert "1 created" in out.getvalue()


def test_the_command_says_when_a_running_shop_cannot_see_the_import_yet(tmp_path, knitwear, settings):
    # given the embedded defaults' cache, in each process's memory (make run): a running demo
    # keeps its version stamps where this command cannot bump them (found by a fresh-eyes test:
    # the demo showed the old price for minutes while the cart charged the new one)
    good = csv_file(tmp_path, HEADER + "HAT-1,Hat,knitwear,10,,yes\n")
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    out = io.StringIO()
    call_command("import_catalog", str(good), stdout=out, stderr=io.StringIO())
    assert "shows this import when it is restarted" in out.getvalue()

    # and with a cache every process shares, it says nothing of the kind
    shared = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path / "cache")}
    settings.CACHES = {**settings.CACHES, "default": shared}
    out = io.StringIO()
    call_command("import_catalog", str(good), stdout=out, stderr=io.StringIO())
    assert "restarted" not in out.getvalue()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_line_is_drawn_on_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = ProgressLine("Importing products", stream)
        progress(0, 4)
        progress(2, 4)
        progress(4, 4)
    assert "\rImporting products [##########..........] 2/4 (50%)" in terminal.getvalue()
    assert terminal.getvalue().endswith("4/4 (100%)\n")
    assert pipe.getvalue() == ""


def test_a_big_file_reports_progress_per_batch(tmp_path, knitwear):
    rows = "".join(f"SKU-{n},Product {n},knitwear,{n},,yes\n" for n in range(1200))
    seen = []

    import_catalog_file(path=csv_file(tmp_path, HEADER + rows), progress=lambda done, total: seen.append(done))

    assert seen == [0, 500, 1000, 1200]
    assert Product.objects.count() == 1200


def test_the_vat_class_column_sets_it_and_a_blank_one_keeps_the_products_own(tmp_path, knitwear):
    # given liquorice already sold at the reduced rate
    ProductFactory(sku="LAKK-1", name="Liquorice", price=Decimal("990"), category=knitwear, vat_class="reduced")
    path = csv_file(
        tmp_path,
        "sku,name,category,price,description,active,vat_class\n"
        "LAKK-1,Liquorice,knitwear,1090,,yes,\n"
        "KAFFI-1,Coffee,knitwear,1990,,yes,reduced\n"
        "HAT-1,Hat,knitwear,3500,,yes,\n",
    )

    import_catalog_file(path=path)

    classes = dict(Product.objects.values_list("sku", "vat_class"))
    assert classes == {"LAKK-1": "reduced", "KAFFI-1": "reduced", "HAT-1": "standard"}


def test_an_unknown_vat_class_rejects_the_file(tmp_path, knitwear):
    path = csv_file(
        tmp_path, "sku,name,category,price,description,active,vat_class\nHAT-1,Hat,knitwear,3500,,yes,luxury\n"
    )

    with pytest.raises(ImportRejected) as rejected:
        import_catalog_file(path=path)

    assert "VAT class 'luxury' must be one of standard, reduced" in str(rejected.value.errors[0].message)
    assert not Product.objects.exists()


def test_an_excel_file_from_norway_reads_its_decimal_commas_and_yes_no_words(tmp_path, knitwear, settings):
    # given Norwegian Excel's "CSV": ';'-separated, prices with a decimal comma, ja/nei, já/nei and
    # Excel's own TRUE/FALSE words; a variant's price too
    settings.SHOP_CURRENCY = "NOK"
    path = csv_file(
        tmp_path,
        "\ufeffsku;name;category;price;description;active;parent_sku\r\n"
        "LUE-1;Fresh lue;knitwear;249,90;Varm lue;ja\r\n"
        "LUE-2;Lue to;knitwear;1990;;Nei\r\n"
        "LUE-3;Lue tre;knitwear;99.50;;JÁ\r\n"
        "LUE-4;Lue fire;knitwear;10,5;;usann\r\n",
    )

    # when it is imported
    result = import_catalog_file(path=path)

    # then the prices are the file's kroner and øre, and active follows the words
    assert result.created == 4
    assert sorted(Product.objects.values_list("sku", "price", "is_active")) == [
        ("LUE-1", Decimal("249.90"), True),
        ("LUE-2", Decimal("1990.00"), False),
        ("LUE-3", Decimal("99.50"), True),
        ("LUE-4", Decimal("10.50"), False),
    ]


def test_a_comma_is_never_read_as_a_decimal_mark_in_a_comma_file_and_the_error_says_how_to_write_it(
    tmp_path, knitwear, settings
):
    # given a ','-separated file with a quoted "249,90" (a decimal comma, or a thousands
    # separator?), one grouped price in a ';' file, and an active that is no yes/no word
    settings.SHOP_CURRENCY = "NOK"
    comma_file = csv_file(tmp_path, HEADER + 'LUE-1,Lue,knitwear,"249,90",,yes\nLUE-2,Lue,knitwear,10,,kanskje\n')

    # when it is imported, then it is refused, saying how to write a price and what yes/no may be
    with pytest.raises(ImportRejected) as rejected:
        import_catalog_file(path=comma_file)
    messages = {error.line: error.message for error in rejected.value.errors}
    assert messages == {
        2: "price '249,90' is not a number: write it as 1234.50 (or 1234,50 in a file separated by ';')",
        3: "active 'kanskje' must be yes or no (já or nei, ja or nei)",
    }
    assert not Product.objects.exists()

    # and a grouped price in a ';' file is not guessed at either
    semicolon_file = csv_file(tmp_path, "sku;name;category;price\nLUE-1;Lue;knitwear;1.249,90\n")
    with pytest.raises(ImportRejected) as rejected:
        import_catalog_file(path=semicolon_file)
    assert [error.message for error in rejected.value.errors] == [
        "price '1.249,90' is not a number: write it as 1234.50 (or 1234,50 in a file separated by ';')"
    ]
