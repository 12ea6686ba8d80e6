"""The store page in the admin as its manager keeps it: phone, hours and pickup settings only,
each checked with a message in words on the field or row that is wrong."""

import datetime

import pytest
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from stores.models import OpeningHours, Store, StoreKind
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur", phone="+354 555 0145", open_every_day=False)


@pytest.fixture
def manager(client, laugavegur):
    gudrun = StoreManagerFactory(username="gudrun", stores=[laugavegur])
    client.force_login(gudrun)
    return gudrun


def page_data(response):
    """The store page's form as the browser would post it unchanged: the store's fields and every
    inline's management form and rows."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for field in form:
            value = field.value()
            if value is None:
                continue
            if isinstance(value, list | tuple):
                data[field.html_name] = [str(item) for item in value]
            elif isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = str(value)
    return data


def store_page(laugavegur):
    return reverse("admin:stores_store_change", args=[laugavegur.pk])


def test_a_manager_cannot_make_their_store_a_warehouse(client, manager, laugavegur):
    response = client.get(store_page(laugavegur))
    assert "kind" not in response.context["adminform"].form.fields

    # when the manager posts kind=warehouse anyway
    data = {**page_data(response), "kind": StoreKind.WAREHOUSE, "offers_pickup": "", "accepts_returns": ""}
    client.post(store_page(laugavegur), data)

    # then the store is still a store
    laugavegur.refresh_from_db()
    assert laugavegur.kind == StoreKind.STORE


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("5550146", "+354 555 0146"), ("+3545550146", "+354 555 0146"), ("+47 22000159", "+47 22 00 01 59")],
)
def test_the_phone_is_saved_in_one_international_form(client, manager, laugavegur, typed, saved):
    data = {**page_data(client.get(store_page(laugavegur))), "phone": typed}

    response = client.post(store_page(laugavegur), data)

    assert response.status_code == 302
    laugavegur.refresh_from_db()
    assert laugavegur.phone == saved


def test_text_that_is_not_a_phone_number_is_refused_on_the_field(client, manager, laugavegur):
    data = {**page_data(client.get(store_page(laugavegur))), "phone": "call me maybe"}

    response = client.post(store_page(laugavegur), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == [
        "Enter a phone number, such as +354 555 0145 or +47 22 00 01 59."
    ]
    laugavegur.refresh_from_db()
    assert laugavegur.phone == "+354 555 0145"


def test_opening_hours_closing_before_opening_are_refused_on_their_row_in_words(client, manager, laugavegur):
    OpeningHours.objects.create(store=laugavegur, weekday=0, opens=datetime.time(10), closes=datetime.time(18))
    data = page_data(client.get(store_page(laugavegur)))
    data["opening_hours-0-opens"], data["opening_hours-0-closes"] = "18:00", "10:00"

    response = client.post(store_page(laugavegur), data)

    # then the row says what is wrong, not the database's name for the rule
    assert response.status_code == 200
    page = response.content.decode()
    assert "opening_hours_closes_after_opens" not in page
    hours = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "opening_hours")
    assert hours.formset.forms[0].non_field_errors() == [
        "The store must close after it opens on that day; a day without opening hours is closed."
    ]
    assert Store.objects.get(pk=laugavegur.pk).opening_hours.get().closes == datetime.time(18)
