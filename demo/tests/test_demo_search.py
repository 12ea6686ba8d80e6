"""The demo shows what the search does (catalog/search.py): "hat" finds the knitted hats, in
every case and in the plural, ranked above the dome tent whose description mentions a hat."""

import pytest
from django.utils import translation

from catalog.models import Category
from catalog.selectors import product_listing
from demo.services import seed_demo

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_hat_finds_the_demos_hats_first_and_the_tent_that_mentions_one_after_them(require_postgres):
    # given the demo shop
    seed_demo()
    hats_and_gloves = Category.objects.get(slug="hats-gloves").pk

    for language, text in (("en", "hat"), ("en", "hats"), ("en", "HAT"), ("is", "húfa"), ("nb", "lue")):
        # when a shopper searches for a hat in their language
        with translation.override(language):
            found = [(product.category_id, product.name_en) for product in product_listing(search=text)]

        # then the hats come first, every one of them before anything else
        hats = [name for category, name in found if category == hats_and_gloves]
        assert len(hats) >= 5, (language, text, found)
        assert all("beanie hat" in name for name in hats), (language, text, found)
        assert [name for _, name in found[: len(hats)]] == hats, (language, text, found)
        if language != "is":  # and the tent with a pocket for one after them
            assert any("dome tent" in name for _, name in found[len(hats) :]), (language, text, found)
