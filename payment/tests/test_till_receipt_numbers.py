"""What staff may type as a till's receipt number (payment.till.clean_till_receipt_number)."""

import pytest
from django.core.exceptions import ValidationError

from payment.till import clean_till_receipt_number


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("4711", "4711"), (" K2-000123 ", "K2-000123"), ("t-2026/1001", "T-2026/1001"), ("2026/88412", "2026/88412")],
)
def test_a_till_receipt_number_is_kept_trimmed_and_in_capitals(typed, kept):
    assert clean_till_receipt_number(typed) == kept


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "required"),
        ("  ", "required"),
        ("0", "invalid"),
        ("000-0", "invalid"),
        ("ABC", "invalid"),
        ("--", "invalid"),
    ],
)
def test_what_no_till_prints_is_refused(typed, code):
    with pytest.raises(ValidationError) as refused:
        clean_till_receipt_number(typed)
    assert refused.value.code == code
