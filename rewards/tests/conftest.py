"""Anna, a member, and her order at Laugavegur (a sweater, ISK 24,990, and two pairs of mittens,
ISK 3,990 each) paid online; Kringlan, another store, takes returns and is run by Sigga. The
fixtures are the returns app's: a return is where rewards are reversed."""

import pytest

from accounts.tests.factories import UserFactory
from returns.tests.conftest import (  # noqa: F401 — fixtures
    collect,
    line_of,
    order,
    payment_variants,
    pickup_manager,
    pickup_store,
    products,
    returns_store,
    sigga,
    till_order,
)
from rewards import services


@pytest.fixture
def anna(db):
    return UserFactory(username="anna", email="anna@example.com")


@pytest.fixture
def member(anna):
    return services.join(email=anna.email, user=anna)
