"""The timeline note of an authorised online payment says when the amount is taken, which depends
on how the goods reach the shopper: a delivered or shipped order is never 'taken when you pick up'."""

from decimal import Decimal

import pytest
from django.utils import translation

from orders.models import FulfilmentMethod
from payment.services import _authorised_note


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        ({FulfilmentMethod.IN_STORE}, "Paid online: ISK\u00a09,990 authorised, taken when you pick up."),
        ({FulfilmentMethod.CURBSIDE}, "Paid online: ISK\u00a09,990 authorised, taken when you pick up."),
        (
            {FulfilmentMethod.LOCAL_DELIVERY},
            "Paid online: ISK\u00a09,990 authorised, taken when the order is delivered.",
        ),
        ({FulfilmentMethod.SHIPPING}, "Paid online: ISK\u00a09,990 authorised, taken when the order is shipped."),
        (
            {FulfilmentMethod.IN_STORE, FulfilmentMethod.LOCAL_DELIVERY},
            "Paid online: ISK\u00a09,990 authorised, each part taken when it is handed over.",
        ),
    ],
)
def test_the_note_says_when_the_amount_is_taken(methods, expected):
    with translation.override("en"):
        assert _authorised_note(Decimal("9990"), "ISK", methods) == expected


@pytest.mark.parametrize(
    ("language", "start", "end"),
    [
        ("is", "Greitt á netinu: ", " heimilað, tekið þegar pöntunin er send."),
        ("nb", "Betalt på nett: ", " autorisert, trekkes når bestillingen sendes."),
    ],
)
def test_the_shipped_note_is_translated(language, start, end):
    with translation.override(language):
        note = _authorised_note(Decimal("9990"), "ISK", {FulfilmentMethod.SHIPPING})
    assert note.startswith(start)
    assert note.endswith(end)
