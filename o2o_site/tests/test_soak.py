"""A short soak (bench/soak.py): browsing, checkouts and staff work at once against gunicorn and a
real worker, ending reconciled. The 10-minute run is `bench/soak.py --minutes 10` (README)."""

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from bench.soak import run_soak
from catalog.tests.factories import ProductFactory
from orders.models import Order
from orders.tests.test_worker import database_url_of_this_test_run, delete_queue, sending_to
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

SOAK_SECONDS = 20


def test_a_short_soak_ends_with_stock_orders_and_emails_reconciled(
    require_postgres, redis_broker_url, transactional_db, tmp_path
):
    # given two stores with a dozen products in stock, and a manager for the staff's work
    stores = [StoreFactory(name="Laugavegur"), StoreFactory(name="Kringlan")]
    for index in range(12):
        product = ProductFactory(name=f"Lopi mittens {index}", price=Decimal("4990"))
        for store in stores:
            StockLevelFactory(store=store, product=product, on_hand=15)
    manager = UserFactory(username="soak-manager", is_staff=True, is_superuser=True)
    queue = f"o2o-soak-{uuid.uuid4().hex[:10]}"

    # when shoppers browse and check out for 20 seconds while staff mark ready, collect and cancel
    try:
        with sending_to(broker_url=redis_broker_url, queue=queue):
            result = run_soak(
                seconds=SOAK_SECONDS,
                shoppers=4,
                database_url=database_url_of_this_test_run(),
                broker_url=redis_broker_url,
                work_dir=tmp_path,
                manager_id=manager.pk,
                queue=queue,
            )
    finally:
        delete_queue(broker_url=redis_broker_url, queue=queue)

    # then nothing failed, every e-mail went out once, and check_integrity found everything reconciled
    print(result.summary())
    assert result.ok, result.summary()
    assert "Everything reconciles." in result.integrity_report
    assert result.stats.staff["orders placed"] >= 5
    assert result.stats.staff["marked ready"] >= 1 and result.stats.staff["collected"] >= 1
    assert result.notifications["sent"] == result.emails >= 1
    assert Order.objects.count() == result.stats.staff["orders placed"]
