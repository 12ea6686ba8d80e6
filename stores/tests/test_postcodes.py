import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from o2o_site.csv_import import ImportRejected
from stores.models import PostcodeLocation
from stores.postcodes import import_postcode_file, import_postcodes
from stores.selectors import locate_postcode
from stores.tests.factories import PostcodeLocationFactory

pytestmark = pytest.mark.django_db

SHIPPED_FILE = Path(__file__).resolve().parent.parent / "data" / "postcodes_is_no.csv"
HEADER = "country,postcode,place_name,latitude,longitude\n"


def write_csv(tmp_path, body, *, header=HEADER, encoding="utf-8"):
    path = tmp_path / "postcodes.csv"
    path.write_bytes((header + body).encode(encoding))
    return path


def row(country="IS", postcode="101", place_name="Reykjavík", latitude="64.1466", longitude="-21.9426"):
    return {
        "country": country,
        "postcode": postcode,
        "place_name": place_name,
        "latitude": latitude,
        "longitude": longitude,
    }


def test_the_shipped_table_covers_the_capital_area_and_oslo():
    # given the file the demo ships
    with SHIPPED_FILE.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))

    # when it is imported
    result = import_postcode_file(path=SHIPPED_FILE)

    # then every row is in the table and the stores' neighbourhoods can be found
    assert result.created == len(rows) == PostcodeLocation.objects.count()
    assert (result.updated, result.unchanged) == (0, 0)
    for country, postcode in [("IS", "101"), ("IS", "201"), ("IS", "270"), ("NO", "0150"), ("NO", "0552")]:
        assert locate_postcode(postcode, country) is not None, postcode
    laugavegur = locate_postcode("101", "IS")
    assert Decimal("63.9") < laugavegur.latitude < Decimal("64.3")
    assert Decimal("-22.1") < laugavegur.longitude < Decimal("-21.6")
    karl_johan = locate_postcode("0150", "NO")
    assert Decimal("59.8") < karl_johan.latitude < Decimal("60.0")
    assert Decimal("10.6") < karl_johan.longitude < Decimal("10.9")


def test_importing_the_same_file_again_changes_nothing():
    # given the table was imported once
    first = import_postcode_file(path=SHIPPED_FILE)

    # when it is imported again
    second = import_postcode_file(path=SHIPPED_FILE)

    # then no row is added or rewritten
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)
    assert PostcodeLocation.objects.count() == first.created


def test_known_postcodes_get_the_files_coordinates_and_new_ones_are_added():
    # given 101 is known with old coordinates and a postcode the file does not mention
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Old", latitude=Decimal("64.000000"))
    PostcodeLocationFactory(country="IS", postcode="600", place_name="Akureyri", latitude=Decimal("65.683000"))

    # when a file with 101 and 105 is imported
    result = import_postcodes(rows=[row(), row(postcode="105", latitude="64.1385", longitude="-21.9035")])

    # then 101 is updated, 105 created, and Akureyri left alone
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    updated = PostcodeLocation.objects.get(country="IS", postcode="101")
    assert (updated.place_name, updated.latitude, updated.longitude) == (
        "Reykjavík",
        Decimal("64.146600"),
        Decimal("-21.942600"),
    )
    assert PostcodeLocation.objects.filter(country="IS", postcode="105").exists()
    assert PostcodeLocation.objects.get(country="IS", postcode="600").place_name == "Akureyri"


def test_postcodes_and_country_codes_are_stored_the_way_shoppers_look_them_up():
    # when a row has a lower-case country, spaces around the postcode and a decimal comma
    import_postcodes(rows=[row(country="no", postcode=" 0552 ", latitude="59,9225", longitude="10,7585")])

    # then the shopper's "0552" finds it
    location = locate_postcode("0552", "NO")
    assert (location.country, location.latitude) == ("NO", Decimal("59.922500"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"latitude": ""}, "missing latitude"),
        ({"country": "", "postcode": " "}, "missing country, postcode"),
        ({"latitude": "sixty-four"}, "latitude 'sixty-four' is not a number"),
        ({"latitude": "640.1"}, "latitude 640.1 is outside -90…90"),
        ({"longitude": "-181"}, "longitude -181 is outside -180…180"),
        ({"longitude": "NaN"}, "longitude NaN is outside -180…180"),
        ({"country": "ISL"}, "country 'ISL' is not a two-letter ISO code"),
        ({"country": "NO", "postcode": "150"}, "postcode '150' is not a valid postcode for NO"),
        ({"postcode": "1080"}, "postcode '1080' is not a valid postcode for IS"),
        ({"place_name": "x" * 121}, "place name is longer than 120 characters"),
        ({None: ["surplus"]}, "more values than columns"),
    ],
)
def test_a_bad_row_rejects_the_whole_file_and_says_why(overrides, reason):
    # given a table with one known postcode
    PostcodeLocationFactory(country="IS", postcode="101", place_name="Before", latitude=Decimal("64.000000"))

    # when a file whose third data row is bad is imported
    rows = [row(), row(postcode="105"), {**row(postcode="108"), **overrides}, row(postcode="107")]
    with pytest.raises(ImportRejected) as raised:
        import_postcodes(rows=rows)

    # then the bad row is named by its line in the file (header is line 1) and nothing changed
    assert [(error.line, error.message) for error in raised.value.errors] == [(4, reason)]
    assert list(PostcodeLocation.objects.values_list("postcode", "place_name")) == [("101", "Before")]


def test_every_bad_row_is_reported_at_once():
    # when several rows are bad, one of them twice over
    rows = [row(latitude="x"), row(postcode="105"), row(postcode="107", latitude="95", longitude="200")]
    with pytest.raises(ImportRejected) as raised:
        import_postcodes(rows=rows)

    # then each problem is listed, in file order
    assert [str(error) for error in raised.value.errors] == [
        "line 2: latitude 'x' is not a number",
        "line 4: latitude 95 is outside -90…90",
        "line 4: longitude 200 is outside -180…180",
    ]
    assert not PostcodeLocation.objects.exists()


def test_the_same_postcode_twice_in_a_file_is_refused():
    # when 101 appears twice (once written with a space)
    rows = [row(), row(postcode="105"), row(postcode="10 1", place_name="Miðborg")]
    with pytest.raises(ImportRejected) as raised:
        import_postcodes(rows=rows)

    # then the second one is reported against the first
    assert [str(error) for error in raised.value.errors] == ["line 4: IS 101 appears twice (first on line 2)"]
    assert not PostcodeLocation.objects.exists()


def test_a_byte_order_mark_from_a_spreadsheet_is_accepted(tmp_path):
    # given a UTF-8 file with a byte-order mark, as spreadsheets save it
    path = write_csv(tmp_path, "IS,101,Reykjavík,64.1466,-21.9426\n", header="\ufeff" + HEADER)

    # when it is imported
    result = import_postcode_file(path=path)

    # then the first column is still "country"
    assert result.created == 1
    assert locate_postcode("101", "IS").place_name == "Reykjavík"


def test_the_import_command_reports_counts(tmp_path):
    # given one known and one new postcode
    path = write_csv(tmp_path, "IS,101,Reykjavík,64.1466,-21.9426\nNO,0150,Oslo,59.9095,10.7465\n")
    PostcodeLocationFactory(country="IS", postcode="101", latitude=Decimal("64.000000"))
    out = io.StringIO()

    # when the command imports them
    call_command("import_postcodes", str(path), stdout=out)

    # then the summary gives both counts (on its first line; with a per-process cache, as in
    # tests, a notice follows it: catalog/tests/test_catalog_import.py)
    assert out.getvalue().splitlines()[0] == f"Imported 2 postcodes from {path}: 1 created, 1 updated, 0 unchanged."


def test_the_import_command_lists_each_bad_row_and_fails(tmp_path):
    # given a file with two bad rows among good ones
    path = write_csv(
        tmp_path,
        "IS,101,Reykjavík,64.1466,-21.9426\nNO,150,Oslo,59.9095,10.7465\nIS,105,Reykjavík,64.1385,abc\n",
    )
    err = io.StringIO()

    # when the command imports it
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_postcodes", str(path), stderr=err)

    # then each bad row is printed with its line, and nothing was imported
    assert err.getvalue().splitlines() == [
        f"{path}: line 3: postcode '150' is not a valid postcode for NO",
        f"{path}: line 4: longitude 'abc' is not a number",
    ]
    assert not PostcodeLocation.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_the_line(tmp_path):
    # given a file saved as Latin-1 (the "í" of Reykjavík on line 3)
    path = write_csv(tmp_path, "NO,0150,Oslo,59.9095,10.7465\nIS,101,Reykjavík,64.1466,-21.9426\n", encoding="latin-1")
    err = io.StringIO()

    # when the command imports it
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_postcodes", str(path), stderr=err)

    # then the line with the bad byte is named
    assert err.getvalue().strip() == f"{path}: line 3: byte 0xed is not UTF-8; save the file as UTF-8"
    assert not PostcodeLocation.objects.exists()


def test_a_file_without_the_expected_header_is_refused(tmp_path):
    # given a file whose header has no coordinates
    path = write_csv(tmp_path, "IS,101,Reykjavík\n", header="country,postcode,place_name\n")
    err = io.StringIO()

    # when the command imports it
    with pytest.raises(CommandError):
        call_command("import_postcodes", str(path), stderr=err)

    # then line 1 is blamed
    assert err.getvalue().strip() == f"{path}: line 1: the header lacks latitude, longitude"


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_postcodes", str(tmp_path / "nowhere.csv"))
