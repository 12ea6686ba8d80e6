"""Importing stock counts from CSV: all or nothing, reserved units respected, every bad row named."""

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.tests.factories import ProductFactory
from o2o_site.csv_import import ImportRejected
from stores import services
from stores.models import StockLevel
from stores.stock_import import import_stock_file
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

HEADER = "store,sku,on_hand\n"


@pytest.fixture
def shop():
    laugavegur = StoreFactory(slug="laugavegur")
    oslo = StoreFactory(slug="grunerlokka", city="Oslo", country="NO")
    mittens, hat = ProductFactory(sku="LOPI-1"), ProductFactory(sku="HAT-1")
    StockLevelFactory(store=laugavegur, product=mittens, on_hand=10, reserved=4)
    return {"laugavegur": laugavegur, "oslo": oslo, "mittens": mittens, "hat": hat}


def csv_file(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "stock.csv"
    path.write_bytes(text.encode(encoding))
    return path


def messages_by_line(rejected):
    """{line: its problems joined by "; "}: a row can be wrong in several ways."""
    by_line = {}
    for error in rejected.errors:
        by_line[error.line] = f"{by_line[error.line]}; {error.message}" if error.line in by_line else error.message
    return by_line


def counts():
    return sorted(StockLevel.objects.values_list("store__slug", "product__sku", "on_hand", "reserved"))


def test_a_good_file_sets_counts_and_creates_missing_rows(tmp_path, shop):
    path = csv_file(tmp_path, HEADER + "laugavegur,LOPI-1,7\nlaugavegur,HAT-1,3\ngrunerlokka,LOPI-1,0\n")

    result = import_stock_file(path=path)

    assert (result.updated, result.created) == (1, 2)
    assert counts() == [
        ("grunerlokka", "LOPI-1", 0, 0),
        ("laugavegur", "HAT-1", 3, 0),
        ("laugavegur", "LOPI-1", 7, 4),
    ]


def test_a_file_with_bad_rows_is_rejected_whole_with_every_problem(tmp_path, shop):
    before = counts()
    path = csv_file(
        tmp_path,
        HEADER + "laugavegur,HAT-1,5\n"  # 2: fine
        "laugavegur,LOPI-1,-1\n"  # 3: negative
        "laugavegur,LOPI-1,2.5\n"  # 4: not whole
        "nowhere,LOPI-1,1\n"  # 5: unknown store
        "laugavegur,NOPE-9,1\n"  # 6: unknown SKU
        "laugavegur,HAT-1,6\n"  # 7: duplicate of line 2
        "laugavegur,,1\n"  # 8: missing sku
        "grunerlokka,HAT-1,lots\n",  # 9: not a number
    )

    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=path)

    by_line = messages_by_line(rejected.value)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9]
    assert "cannot be negative" in by_line[3]
    assert "not a whole number" in by_line[4]
    assert "appears twice (first on line 3)" in by_line[4]  # line 3 is bad, but the same row
    assert "unknown store 'nowhere'" in by_line[5]
    assert "unknown SKU 'NOPE-9'" in by_line[6]
    assert "appears twice (first on line 2)" in by_line[7]
    assert "missing sku" in by_line[8]
    assert "not a whole number" in by_line[9]
    assert counts() == before


def test_a_count_below_the_reserved_units_rejects_the_file(tmp_path, shop):
    # given 4 mittens reserved for open orders at Laugavegur
    before = counts()
    path = csv_file(tmp_path, HEADER + "laugavegur,HAT-1,5\nlaugavegur,LOPI-1,3\n")

    # when a stocktake says there are 3
    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=path)

    # then line 3 says why, and not even the hat's count was written
    assert [(e.line, e.message) for e in rejected.value.errors] == [
        (3, "on hand 3 is less than the 4 units reserved for open orders")
    ]
    assert counts() == before


def test_a_file_mixing_bad_rows_reports_each_of_them_by_its_line(tmp_path, shop):
    # given 4 mittens reserved at Laugavegur
    before = counts()
    path = csv_file(
        tmp_path,
        HEADER + "laugavegur,LOPI-1,3\n"  # 2: below the 4 reserved
        "laugavegur,HAT-1,-2\n"  # 3: negative
        "laugavegur,HAT-1,5\n"  # 4: the same store and SKU as line 3 (itself bad)
        "grunerlokka,HAT-1,1\n"  # 5: fine
        "grunerlokka,HAT-1,2\n"  # 6: duplicate of line 5
        "nowhere,LOPI-1,1\n",  # 7: unknown store
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=path)

    # then every bad row is named by its line, whatever else is wrong in the file, and nothing is written
    by_line = messages_by_line(rejected.value)
    assert sorted(by_line) == [2, 3, 4, 6, 7]
    assert by_line[2] == "on hand 3 is less than the 4 units reserved for open orders"
    assert "cannot be negative" in by_line[3]
    assert "appears twice (first on line 3)" in by_line[4]
    assert "appears twice (first on line 5)" in by_line[6]
    assert "unknown store 'nowhere'" in by_line[7]
    assert counts() == before


def test_wrong_encoding_and_missing_columns_are_reported(tmp_path, shop):
    with pytest.raises(ImportRejected) as header:
        import_stock_file(path=csv_file(tmp_path, "store,sku\nlaugavegur,LOPI-1\n"))
    assert str(header.value.errors[0]) == "line 1: the header lacks on_hand"

    with pytest.raises(ImportRejected) as encoding:
        import_stock_file(path=csv_file(tmp_path, HEADER + "laugavegur,LOPI-1,5\nlaugavegur,HÚFA,1\n", "latin-1"))
    assert encoding.value.errors[0].line == 3


def test_the_service_reports_every_count_below_reserved_at_once(shop):
    oslo_level = StockLevelFactory(store=shop["oslo"], product=shop["hat"], on_hand=5, reserved=2)
    mittens_key = (shop["laugavegur"].pk, shop["mittens"].pk)
    hat_key = (shop["oslo"].pk, shop["hat"].pk)

    with pytest.raises(services.StockCountsRefused) as refused:
        services.set_stock_counts(counts={mittens_key: 1, hat_key: 0})

    assert {(r.store_id, r.product_id, r.reserved) for r in refused.value.refused} == {(*mittens_key, 4), (*hat_key, 2)}
    oslo_level.refresh_from_db()
    assert oslo_level.on_hand == 5


def test_stock_import_runs_in_a_fixed_number_of_queries(tmp_path, shop, django_assert_max_num_queries):
    products = ProductFactory.create_batch(200)
    rows = "".join(f"laugavegur,{product.sku},{n}\n" for n, product in enumerate(products))

    with django_assert_max_num_queries(12):
        result = import_stock_file(path=csv_file(tmp_path, HEADER + rows))

    assert result.created == 200


def test_the_command_lists_problems_and_writes_nothing(tmp_path, shop):
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_stock", str(csv_file(tmp_path, HEADER + "laugavegur,LOPI-1,-3\n")), stderr=err)
    assert "line 2: on hand -3 cannot be negative" in err.getvalue()

    out = io.StringIO()
    call_command("import_stock", str(csv_file(tmp_path, HEADER + "laugavegur,LOPI-1,8\n")), stdout=out)
    assert "1 updated" in out.getvalue()


def test_the_postcode_import_reports_progress_too(tmp_path):
    from stores.postcodes import import_postcode_file

    rows = "".join(f"IS,{100 + n},Place {n},64.1,-21.9\n" for n in range(600))
    path = tmp_path / "postcodes.csv"
    path.write_text("country,postcode,place_name,latitude,longitude\n" + rows, encoding="utf-8")
    seen = []

    import_postcode_file(path=path, progress=lambda done, total: seen.append((done, total)))

    assert seen == [(0, 600), (500, 600), (600, 600)]


def test_a_product_with_sizes_gets_no_units_of_its_own_its_sizes_do(tmp_path, shop):
    # given a sweater sold in sizes: the sweater itself is never sold, its sizes are
    sweater = ProductFactory(sku="PEYSA")
    medium = ProductFactory(sku="PEYSA-M", parent=sweater)
    before = counts()

    # when a stocktake file counts the sweater itself
    path = csv_file(tmp_path, HEADER + "laugavegur,PEYSA-M,4\nlaugavegur,PEYSA,6\n")
    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=path)

    # then that line is refused, naming what to count instead, and nothing is written
    [error] = rejected.value.errors
    assert error.line == 3
    assert "'PEYSA' has sizes or other variants: count each variant's SKU instead" in error.message
    assert counts() == before

    # and the services refuse it too (the admin's stock form and seeding go through them)
    with pytest.raises(services.StockError, match="PEYSA has sizes"):
        services.set_on_hand(store=shop["laugavegur"], product=sweater, on_hand=6)
    with pytest.raises(services.StockError, match="PEYSA has sizes"):
        services.set_stock_counts(counts={(shop["laugavegur"].pk, sweater.pk): 6})
    with pytest.raises(services.StockError, match="PEYSA has sizes"):
        services.record_opening_stock(store=shop["oslo"], counts={sweater.pk: 6})
    assert counts() == before

    # while a size is counted, and a count of 0 clears what the sweater held before it had sizes
    import_stock_file(path=csv_file(tmp_path, HEADER + "laugavegur,PEYSA-M,4\nlaugavegur,PEYSA,0\n"))
    assert ("laugavegur", "PEYSA-M", 4, 0) in counts()
    assert ("laugavegur", "PEYSA", 0, 0) in counts()
    assert medium.parent == sweater


def test_a_file_excel_saved_with_semicolons_is_read_and_its_bad_rows_reported(tmp_path, shop):
    # given a stocktake Excel saved as "CSV" in Iceland or Norway: separated by ";", a BOM, CRLF
    good = "\ufeffStore;SKU;On_hand\r\nlaugavegur;LOPI-1;7\r\nlaugavegur;HAT-1;3\r\n"

    # when it is imported
    result = import_stock_file(path=csv_file(tmp_path, good))

    # then it is read as the comma-separated file would be
    assert (result.updated, result.created) == (1, 1)
    assert ("laugavegur", "HAT-1", 3, 0) in counts()

    # and one with a bad row is rejected whole, the row named, nothing changed
    before = counts()
    bad = "store;sku;on_hand\nlaugavegur;LOPI-1;5\nlaugavegur;NOPE-9;1\n"
    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=csv_file(tmp_path, bad))
    assert messages_by_line(rejected.value) == {3: "unknown SKU 'NOPE-9'"}
    assert counts() == before


@pytest.mark.parametrize("separator", [",", ";"])
def test_rows_of_nothing_but_separators_are_skipped_as_blank_lines_are(tmp_path, shop, separator):
    # given a file Excel saved with formatted empty rows (";;", ",," and one with more separators
    # than columns) between and after its counts, and a bad row after them
    s = separator
    text = f"store{s}sku{s}on_hand\nlaugavegur{s}LOPI-1{s}7\n{s}{s}\n \t{s} {s}\nlaugavegur{s}HAT-1{s}3\n{s}{s}{s}{s}\n"

    # when it is imported
    result = import_stock_file(path=csv_file(tmp_path, text))

    # then the empty rows are skipped, not reported as missing every value
    assert (result.updated, result.created) == (1, 1)
    assert ("laugavegur", "HAT-1", 3, 0) in counts()

    # and a bad row after empty ones is still named by the line an editor shows
    with pytest.raises(ImportRejected) as rejected:
        import_stock_file(path=csv_file(tmp_path, f"{text}laugavegur{s}NOPE-9{s}1\n"))
    assert messages_by_line(rejected.value) == {7: "unknown SKU 'NOPE-9'"}
