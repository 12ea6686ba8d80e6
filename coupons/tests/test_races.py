"""A coupon's limits hold when many tills and checkouts use it at the same moment (PostgreSQL,
real threads): the coupon's row lock makes them take turns, so exactly the allowed number win."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import StoreManagerFactory
from checkout.services import CheckoutChanged
from coupons.models import Redemption, RedemptionStatus
from coupons.services import CouponRefused, issue_codes, redeem_at_till
from stores.tests.factories import StoreFactory

from .factories import CouponCodeFactory, CouponFactory, till_receipt

TILLS = 10


def _at_once(work, count):
    barrier = threading.Barrier(count, timeout=30)
    outcomes = []

    def run(n):
        try:
            barrier.wait()
            outcomes.append(("redeemed", work(n).pk))
        except CouponRefused as refused:
            outcomes.append(("refused", refused.reason))
        except CheckoutChanged as changed:
            outcomes.append(("refused", changed.changes[0].kind))
        except Exception as error:  # noqa: BLE001 — any other failure is reported by the assert below
            outcomes.append(("error", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
def test_ten_tills_at_once_redeem_a_coupon_limited_to_four_exactly_four_times(require_postgres, transactional_db):
    # given a coupon that may be used 4 times in all, and staff at ten tills in two stores
    coupon = CouponFactory(limit_total=4)
    CouponCodeFactory(coupon=coupon, code="FJORIR")
    stores = [StoreFactory(), StoreFactory()]
    staff = [StoreManagerFactory(stores=stores) for _ in range(TILLS)]
    # when all ten scan it at the same moment
    outcomes = _at_once(
        lambda n: redeem_at_till(
            code="fjorir",
            store=stores[n % 2],
            purchase_amount=Decimal("5000"),
            by=staff[n],
            till_receipt=till_receipt(),
        ),
        TILLS,
    )
    # then four got it, six were told it is used up, and the database agrees
    assert sorted(kind for kind, _ in outcomes) == ["redeemed"] * 4 + ["refused"] * 6, outcomes
    assert {detail for kind, detail in outcomes if kind == "refused"} == {"exhausted"}
    assert Redemption.objects.filter(coupon=coupon, status=RedemptionStatus.REDEEMED).count() == 4


@pytest.mark.postgres
def test_a_single_use_code_scanned_at_ten_tills_at_once_is_redeemed_once(require_postgres, transactional_db):
    coupon = CouponFactory()
    [code] = issue_codes(coupon=coupon, count=1)
    store = StoreFactory()
    staff = [StoreManagerFactory(stores=[store]) for _ in range(TILLS)]
    outcomes = _at_once(
        lambda n: redeem_at_till(
            code=code, store=store, purchase_amount=Decimal("5000"), by=staff[n], till_receipt=till_receipt()
        ),
        TILLS,
    )
    assert sorted(kind for kind, _ in outcomes) == ["redeemed"] + ["refused"] * (TILLS - 1), outcomes
    assert Redemption.objects.filter(code__code=code).count() == 1


@pytest.mark.postgres
def test_checkouts_and_tills_at_once_share_a_coupon_limited_to_three(require_postgres, transactional_db):
    # given a coupon that may be used 3 times, and stock for everyone
    from catalog.tests.factories import ProductFactory
    from orders.models import Order
    from orders.tests.factories import place_order
    from stores.tests.factories import StockLevelFactory

    coupon = CouponFactory(limit_total=3)
    CouponCodeFactory(coupon=coupon, code="THRIR")
    store = StoreFactory()
    mittens = ProductFactory(price=Decimal("3990"))
    StockLevelFactory(store=store, product=mittens, on_hand=50)
    staff = StoreManagerFactory(stores=[store])

    def use(n):
        if n % 2:
            return redeem_at_till(
                code="THRIR", store=store, purchase_amount=Decimal("5000"), by=staff, till_receipt=till_receipt()
            )
        return place_order(
            store=store, products_and_quantities=[(mittens, 1)], email=f"shopper{n}@example.com", coupon_code="thrir"
        )

    # when five shoppers check out with it while five tills scan it
    outcomes = _at_once(use, TILLS)

    # then three uses in all, the rest refused (a checkout refused places no order)
    won = [detail for kind, detail in outcomes if kind == "redeemed"]
    assert len(won) == 3, outcomes
    assert all(kind in ("redeemed", "refused") for kind, _ in outcomes), outcomes
    assert Redemption.objects.filter(coupon=coupon, status=RedemptionStatus.REDEEMED).count() == 3
    assert Order.objects.count() == Redemption.objects.filter(coupon=coupon, order__isnull=False).count()


@pytest.mark.postgres
def test_two_tills_using_a_coupon_on_one_receipt_in_two_spellings_at_once_use_it_once(
    require_postgres, transactional_db
):
    # given a shared code without limits (its use locks nothing) and two tills at one store
    CouponCodeFactory(code="VETUR", coupon=CouponFactory())
    store = StoreFactory()
    staff = [StoreManagerFactory(stores=[store]) for _ in range(2)]
    spellings = ["K2-000123", " k2-000123"]
    # when both scan it for receipt K2-000123 at the same moment
    outcomes = _at_once(
        lambda n: redeem_at_till(
            code="VETUR", store=store, purchase_amount=Decimal("5000"), by=staff[n], till_receipt=spellings[n]
        ),
        2,
    )
    # then one used it and the other was refused for the receipt; the database held it
    assert sorted(kind for kind, _ in outcomes) == ["redeemed", "refused"], outcomes
    assert ("refused", "receipt_used") in outcomes
    assert Redemption.objects.filter(till_receipt="K2-000123").count() == 1
