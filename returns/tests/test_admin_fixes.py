"""The return's admin page, as staff use it: the forms it offers post where they say (none inside
the admin's own change form, which browsers would swallow them into)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from returns.models import ReturnReason, ReturnStatus
from returns.services import LineToReturn, receive_return
from stores.models import StockLevel

from .conftest import line_of

pytestmark = pytest.mark.django_db


class FormNesting(HTMLParser):
    """The action of every <form> opened while another is still open."""

    def __init__(self):
        super().__init__()
        self.depth, self.nested = 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            if self.depth:
                self.nested.append(dict(attrs).get("action"))
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def nested_forms(html):
    parser = FormNesting()
    parser.feed(html)
    return parser.nested


def held_for_inspection(order, *, store, by):
    return receive_return(
        order=order,
        store=store,
        lines=[
            LineToReturn(
                order_line_id=line_of(order, "Lopi mittens").pk,
                quantity=1,
                reason=ReturnReason.DOES_NOT_FIT,
                to_inspect=1,
            )
        ],
        by=by,
    )


def test_a_held_unit_is_decided_from_the_returns_page_and_the_return_closes(
    client, collected, sigga, returns_store, products
):
    # given a pair of mittens held at Kringlan for inspection
    order_return = held_for_inspection(collected, store=returns_store, by=sigga)
    before = StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand
    client.force_login(sigga)

    # when Sigga opens the return, its inspection form is its own form, not one inside the change form
    page = client.get(reverse("admin:returns_return_change", args=[order_return.pk])).content.decode()
    inspect = reverse("admin:returns_return_inspect", args=[order_return.pk, order_return.lines.get().pk])
    assert f'action="{inspect}"' in page
    assert nested_forms(page) == []

    # and she records the pair as resellable there
    response = client.post(inspect, {"resellable": 1, "damaged": 0}, follow=True)

    # then the pair is on sale and the return closed
    assert "The inspected units are recorded." in response.content.decode()
    order_return.refresh_from_db()
    assert order_return.status == ReturnStatus.CLOSED
    assert StockLevel.objects.get(store=returns_store, product=products["mittens"]).on_hand == before + 1
