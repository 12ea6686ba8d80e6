"""The README's demo logins table names every login seed_demo makes (and prints)."""

import re

from django.conf import settings

from demo.data import STORES
from demo.services import ADMIN_USERNAME, DEMO_WAREHOUSES, SHOPPER_USERNAME, manager_username


def test_the_readme_lists_every_demo_login():
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w-]+)` \| `nordurbud-\w+` \|", readme, flags=re.MULTILINE))

    made = {
        ADMIN_USERNAME,
        SHOPPER_USERNAME,
        *(manager_username(store.slug) for store in STORES),
        *(manager_username(warehouse["slug"]) for warehouse in DEMO_WAREHOUSES.values()),
    }

    assert made - listed == set()
