"""Store managers keep their stock counts in the admin, through stores.services.set_on_hand."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.tests.factories import place_order
from stores import services
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

STOCK_LIST = reverse("admin:stores_stocklevel_changelist")

# Session, user, permissions (the user's and the group's), the store filter's choices, the counts
# (filtered and in all), and the page of rows with their store and product.
STOCK_LIST_QUERIES = 8


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur")


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(username="gudrun", stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


@pytest.fixture
def mittens_with_an_order(laugavegur):
    """10 mittens on hand at Laugavegur, 3 of them reserved for a shopper's order."""
    mittens = ProductFactory(name="Lopi mittens", sku="LOPI-1")
    level = StockLevelFactory(store=laugavegur, product=mittens, on_hand=10)
    place_order(store=laugavegur, products_and_quantities=[(mittens, 3)])
    level.refresh_from_db()
    return level


def list_edit(client, levels_and_counts):
    data = {
        "form-TOTAL_FORMS": str(len(levels_and_counts)),
        "form-INITIAL_FORMS": str(len(levels_and_counts)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, (level, on_hand) in enumerate(levels_and_counts):
        data[f"form-{index}-id"] = str(level.pk)
        data[f"form-{index}-on_hand"] = str(on_hand)
    return client.post(STOCK_LIST, data)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("rows_shown", [10, 200])
def test_the_stock_list_query_count_does_not_grow_with_the_rows_shown(
    client, manager, laugavegur, django_assert_num_queries, rows_shown
):
    # given the store stocks many products, and another store stocks them too
    elsewhere = StoreFactory(name="Akureyri")
    for product in ProductFactory.create_batch(rows_shown):
        StockLevelFactory(store=laugavegur, product=product, on_hand=5)
        StockLevelFactory(store=elsewhere, product=product, on_hand=5)

    # when the manager shows all their stock on one page, with the counts editable
    with django_assert_num_queries(STOCK_LIST_QUERIES):
        response = client.get(STOCK_LIST, {"all": ""})

    # then every row of their store is there, each with an on-hand field
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows_shown
    assert response.content.decode().count('name="form-') >= rows_shown


def test_a_count_typed_into_the_list_is_saved_through_the_service(client, manager, mittens_with_an_order):
    # when the manager corrects the count of mittens in the list
    response = list_edit(client, [(mittens_with_an_order, 12)])

    # then the new count is saved, the reservation stands, and the list says so
    assert response.status_code == 302
    mittens_with_an_order.refresh_from_db()
    assert (mittens_with_an_order.on_hand, mittens_with_an_order.reserved) == (12, 3)
    assert mittens_with_an_order.available == 9


def test_a_count_below_the_reserved_units_in_the_list_is_refused_with_a_reason(client, manager, mittens_with_an_order):
    # when the manager types 2 mittens while 3 are reserved for an order
    response = list_edit(client, [(mittens_with_an_order, 2)])

    # then the list is shown again with the reason next to the row, and nothing changed
    assert response.status_code == 200
    assert response.context["cl"].formset.errors[0] == {
        "on_hand": ["3 units are reserved for open orders; on hand cannot be less than that."]
    }
    mittens_with_an_order.refresh_from_db()
    assert (mittens_with_an_order.on_hand, mittens_with_an_order.reserved) == (10, 3)


def test_a_count_below_the_reserved_units_on_the_stock_page_is_refused_with_a_reason(
    client, manager, mittens_with_an_order
):
    # when the manager types 2 on the row's own page while 3 are reserved
    url = reverse("admin:stores_stocklevel_change", args=[mittens_with_an_order.pk])
    response = client.post(url, {"on_hand": "2"})

    # then the form shows the reason and nothing changed
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "on_hand": ["3 units are reserved for open orders; on hand cannot be less than that."]
    }
    mittens_with_an_order.refresh_from_db()
    assert mittens_with_an_order.on_hand == 10


def test_the_stock_page_saves_a_count_and_shows_reserved_as_read_only(client, manager, mittens_with_an_order):
    # given the row's page
    url = reverse("admin:stores_stocklevel_change", args=[mittens_with_an_order.pk])
    form = client.get(url).context["adminform"].form

    # when the manager saves a new count, and also tries to post a reservation and another product
    response = client.post(url, {"on_hand": "20", "reserved": "0", "product": ProductFactory().pk})

    # then only the count changed
    assert list(form.fields) == ["on_hand"]
    assert response.status_code == 302
    mittens_with_an_order.refresh_from_db()
    assert (mittens_with_an_order.on_hand, mittens_with_an_order.reserved) == (20, 3)
    assert mittens_with_an_order.product.sku == "LOPI-1"


def test_a_reservation_made_while_the_form_was_open_is_reported_not_a_crash(
    client, manager, laugavegur, mittens_with_an_order, monkeypatch
):
    # given the manager's form is checked against 3 reserved units, and then a shopper reserves 5 more
    set_on_hand = services.set_on_hand

    def shopper_checks_out_first(**kwargs):
        services.reserve_stock(store=laugavegur, quantities={mittens_with_an_order.product_id: 5})
        return set_on_hand(**kwargs)

    monkeypatch.setattr(services, "set_on_hand", shopper_checks_out_first)

    # when the manager's count of 6 reaches the service
    response = list_edit(client, [(mittens_with_an_order, 6)])

    # then the count is refused with the reason, no "changed successfully", and the stock is intact
    mittens_with_an_order.refresh_from_db()
    assert (mittens_with_an_order.on_hand, mittens_with_an_order.reserved) == (10, 8)
    notes = messages_of(response)
    assert any("8 units are reserved for open orders" in note for note in notes)
    assert not any("successfully" in note for note in notes)


def test_the_product_autocomplete_works_for_a_manager(client, manager):
    # given products in the catalog
    ProductFactory(name="Lopi mittens", sku="LOPI-1")
    ProductFactory(name="Wool scarf", sku="SCARF-1")

    # when the manager searches the product box of a stock row
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "stores", "model_name": "stocklevel", "field_name": "product", "term": "lopi"},
    )

    # then the mittens are offered
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Lopi mittens (LOPI-1)"]


def test_a_superuser_adds_a_stock_row_through_the_service(admin_client, laugavegur):
    # given a product not yet stocked at the store
    scarf = ProductFactory(name="Wool scarf", sku="SCARF-1")

    # when the superuser adds a row with a count
    response = admin_client.post(
        reverse("admin:stores_stocklevel_add"),
        {"store": laugavegur.pk, "product": scarf.pk, "on_hand": "7"},
    )

    # then the row exists with that count and nothing reserved
    assert response.status_code == 302
    level = StockLevel.objects.get(store=laugavegur, product=scarf)
    assert (level.on_hand, level.reserved) == (7, 0)


# "Import stock": a stocktake's CSV uploaded on the stock list, through stores.stock_import.

STOCK_IMPORT = reverse("admin:stores_stocklevel_import")


def upload(client, text):
    return client.post(STOCK_IMPORT, {"file": SimpleUploadedFile("stock.csv", text.encode(), "text/csv")})


def stock_counts():
    return sorted(StockLevel.objects.values_list("store__slug", "product__sku", "on_hand"))


def test_a_manager_imports_their_stores_stock_from_the_stock_list(client, manager, laugavegur, mittens_with_an_order):
    # given a hat with no stock row yet
    ProductFactory(sku="HAT-1")

    # the stock list links to the import page
    assert STOCK_IMPORT in client.get(STOCK_LIST).content.decode()
    assert laugavegur.slug in client.get(STOCK_IMPORT).content.decode()

    # when the manager uploads a count for each
    response = upload(client, f"store,sku,on_hand\n{laugavegur.slug},LOPI-1,12\n{laugavegur.slug},HAT-1,4\n")

    # then both are written and the list says so
    assert response.status_code == 302
    assert stock_counts() == [(laugavegur.slug, "HAT-1", 4), (laugavegur.slug, "LOPI-1", 12)]
    assert "2 stock counts imported: 1 updated, 1 new." in messages_of(response)


def test_an_excel_file_with_empty_rows_is_imported_and_the_help_says_semicolons_work(
    client, manager, laugavegur, mittens_with_an_order
):
    # the page says a ';' file works as well as a ',' one
    page = client.get(STOCK_IMPORT).content.decode()
    assert "store;sku;on_hand" in page

    # when the manager uploads Excel's file: ';', and a formatted empty row at the end
    response = upload(client, f"store;sku;on_hand\r\n{laugavegur.slug};LOPI-1;42\r\n;;\r\n")

    # then the count is written and the empty row is not an error
    assert response.status_code == 302
    assert stock_counts() == [(laugavegur.slug, "LOPI-1", 42)]


def test_another_stores_rows_are_refused_for_a_manager_and_nothing_is_written(
    client, manager, laugavegur, mittens_with_an_order
):
    oslo = StoreFactory(name="Grünerløkka", slug="grunerlokka", city="Oslo", country="NO")
    before = stock_counts()

    # when the Laugavegur manager's file also counts Grünerløkka, and one of theirs is below reserved
    response = upload(
        client, f"store,sku,on_hand\n{laugavegur.slug},LOPI-1,2\n{oslo.slug},LOPI-1,50\n{laugavegur.slug},NOPE,1\n"
    )

    # then the page lists every bad line, and nothing was written
    assert response.status_code == 200
    errors = [str(error) for error in response.context["errors"]]
    assert errors == [
        "line 2: on hand 2 is less than the 3 units reserved for open orders",
        "line 3: store 'grunerlokka' is not one of the stores you manage",
        "line 4: unknown SKU 'NOPE'",
    ]
    assert 'data-testid="import-errors"' in response.content.decode()
    assert stock_counts() == before


def test_a_superuser_imports_for_any_store(admin_client, laugavegur, mittens_with_an_order):
    oslo = StoreFactory(name="Grünerløkka", slug="grunerlokka", city="Oslo", country="NO")

    response = upload(admin_client, f"store,sku,on_hand\n{oslo.slug},LOPI-1,7\n{laugavegur.slug},LOPI-1,9\n")

    assert response.status_code == 302
    assert stock_counts() == [(oslo.slug, "LOPI-1", 7), (laugavegur.slug, "LOPI-1", 9)]


def test_the_import_page_needs_the_stock_permission(client, laugavegur):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(STOCK_IMPORT).status_code == 403
