"""The member page, joining, and the till screens in the admin (scoped to the staff's stores)."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import StoreManagerFactory
from returns.services import LineToReturn, receive_return
from rewards import services
from rewards.models import EntryKind, RewardAccount, RewardEntry

from .conftest import collect, line_of

pytestmark = pytest.mark.django_db

TILL = reverse("admin:rewards_rewardaccount_till")
IMPORT = reverse("admin:rewards_rewardaccount_import")


def till_of(account):
    return reverse("admin:rewards_rewardaccount_till_member", args=[account.number])


def test_the_member_page_shows_balance_history_and_qr_in_fixed_queries(
    client, anna, member, pickup_store, django_assert_max_num_queries
):
    client.force_login(anna)
    for index in range(3):
        services.earn_in_store(
            account=member, store=pickup_store, till_receipt_number=f"T-{index}", amount="1000", by=None
        )
    with django_assert_max_num_queries(8) as few:
        response = client.get(reverse("rewards:member"))
    for index in range(3, 13):
        services.earn_in_store(
            account=member, store=pickup_store, till_receipt_number=f"T-{index}", amount="1000", by=None
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("rewards:member"))
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "ISK\xa0650" in page or "650" in page
    assert member.number in page and 'data-testid="member-qr"' in page and "data:image/svg+xml" in page
    assert page.count('data-testid="rewards-entry"') == 13


@pytest.mark.parametrize(
    ("language", "worth"), [("en", "One point is worth ISK\xa01 off."), ("is", "Hver punktur er 1\xa0kr. afsláttur.")]
)
def test_the_member_page_says_what_a_point_is_worth_as_money_is_written(client, anna, member, language, worth):
    client.force_login(anna)

    page = client.get(reverse("rewards:member"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert worth in page
    assert "1 kr off" not in page


def test_a_customer_joins_from_the_join_page(client, anna):
    client.force_login(anna)
    response = client.post(reverse("rewards:join"))
    assert response.status_code == 302 and response["Location"] == reverse("rewards:member")
    assert RewardAccount.objects.get().user == anna


def test_a_guest_joins_by_the_link_in_her_email_and_sees_her_page(client):
    response = client.post(reverse("rewards:join"), {"email": "gudrun@example.is"})
    assert response.status_code == 200 and "gudrun@example.is" in response.content.decode()
    assert not RewardAccount.objects.exists()  # nothing until she opens the link
    link = re.search(r"http://testserver(/rewards/join/\S+/)", mail.outbox[0].body).group(1)
    # opening the link asks her to confirm: a mail scanner's GET makes no one a member
    response = client.get(link)
    assert response.status_code == 200 and "gudrun@example.is" in response.content.decode()
    assert 'method="post"' in response.content.decode() and not RewardAccount.objects.exists()
    response = client.post(link)
    assert response.status_code == 302
    account = RewardAccount.objects.get()
    assert account.email == "gudrun@example.is"
    assert account.number in client.get(reverse("rewards:member")).content.decode()


def test_a_tampered_join_link_is_refused(client):
    response = client.get(reverse("rewards:join_confirm", args=["not-a-token"]))
    assert response.status_code == 400 and not RewardAccount.objects.exists()
    response = client.post(reverse("rewards:join_confirm", args=["not-a-token"]))
    assert response.status_code == 400 and not RewardAccount.objects.exists()


def test_a_link_prefetched_by_a_mail_scanner_joins_no_one(client):
    # given the join link in Gudrun's e-mail, fetched by her mail provider's scanner (GET, HEAD)
    client.post(reverse("rewards:join"), {"email": "gudrun@example.is"})
    link = re.search(r"http://testserver(/rewards/join/\S+/)", mail.outbox[0].body).group(1)
    # when the scanner fetches it
    assert client.get(link).status_code == 200
    assert client.head(link).status_code == 200
    # then no one joined and the scanner's session holds no membership
    assert not RewardAccount.objects.exists()
    assert client.get(reverse("rewards:member"))["Location"] == reverse("rewards:join")


def test_without_a_membership_the_member_page_offers_to_join(client):
    assert client.get(reverse("rewards:member"))["Location"] == reverse("rewards:join")


def test_staff_find_a_member_by_the_scanned_code_and_redeem_at_their_store(
    client, member, pickup_store, returns_store, pickup_manager
):
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="10000", by=None)
    client.force_login(pickup_manager)
    # the scanner types the QR code's text: the member number
    response = client.post(TILL, {"member": f" {member.number} "})
    assert response["Location"] == till_of(member)
    page = client.get(till_of(member)).content.decode()
    assert pickup_store.name in page and returns_store.name not in page  # only her own stores
    response = client.post(
        till_of(member),
        {"action": "redeem", "store": pickup_store.pk, "amount": "300", "till_receipt_number": "T-5"},
    )
    assert response.status_code == 302
    entry = RewardEntry.objects.get(kind=EntryKind.REDEEM)
    assert (entry.store, entry.actor, entry.points) == (pickup_store, pickup_manager, Decimal("-300"))


def test_the_till_refuses_too_many_points_and_another_stores_till(
    client, member, pickup_store, returns_store, pickup_manager
):
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="1000", by=None)
    client.force_login(pickup_manager)
    response = client.post(
        till_of(member), {"action": "redeem", "store": pickup_store.pk, "amount": "51", "till_receipt_number": "T-5"}
    )
    assert response.status_code == 200 and "Not enough points" in response.content.decode()
    response = client.post(
        till_of(member), {"action": "earn", "store": returns_store.pk, "amount": "500", "till_receipt_number": "T-6"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert RewardEntry.objects.count() == 1


@pytest.mark.parametrize("action", ["redeem", "earn"])
def test_the_till_refuses_an_amount_with_decimals_at_the_field_and_keeps_it(
    client, member, pickup_store, pickup_manager, action
):
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-0", amount="10000", by=None)
    client.force_login(pickup_manager)
    # when staff type krónur with a decimal, to use points or to earn them
    response = client.post(
        till_of(member), {"action": action, "store": pickup_store.pk, "amount": "100.5", "till_receipt_number": "T-5"}
    )
    # then the field says krónur are whole, what they typed is kept, and nothing is written
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == ["Amounts in ISK have no decimals: enter a whole number."]
    assert 'value="100.5"' in response.content.decode()
    assert RewardEntry.objects.count() == 1


def test_the_till_reads_an_amount_grouped_the_icelandic_way(client, member, pickup_store, pickup_manager):
    client.force_login(pickup_manager)
    # "1.000" is a thousand krónur at an Icelandic till, not one
    response = client.post(
        till_of(member), {"action": "earn", "store": pickup_store.pk, "amount": "1.000", "till_receipt_number": "T-7"}
    )
    assert response.status_code == 302
    assert RewardEntry.objects.get(kind=EntryKind.EARN).purchase_amount == Decimal("1000")


def test_a_mistyped_member_number_is_named(client, pickup_manager):
    client.force_login(pickup_manager)
    response = client.post(TILL, {"member": "1234567890"})
    assert response.status_code == 200 and "is not a member number" in response.content.decode()


def test_the_till_file_with_a_bad_row_lists_it_and_records_nothing(client, member, pickup_store, pickup_manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(pickup_manager)
    data = f"member,store,receipt,amount\n{member.number},{pickup_store.slug},T-1,100\n{member.number},x,T-2,100\n"
    response = client.post(IMPORT, {"file": SimpleUploadedFile("till.csv", data.encode(), "text/csv")})
    page = response.content.decode()
    assert response.status_code == 200 and "line 3: “x” is not one of your stores" in page
    assert not RewardEntry.objects.exists()
    good = data.splitlines()[:2]
    response = client.post(
        IMPORT, {"file": SimpleUploadedFile("till.csv", "\n".join(good).encode(), "text/csv")}, follow=True
    )
    assert "1 purchase imported" in response.content.decode()
    assert RewardEntry.objects.get().points == Decimal("5")


def test_staff_without_the_permission_get_no_till(client, pickup_store):
    user = StoreManagerFactory(stores=[pickup_store])
    user.groups.clear()
    client.force_login(user)
    assert client.get(TILL).status_code == 403


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("is", ["Safnað", "afhent", "Notað við kassann", "Skil", "úr pöntun", "þegar notað", "Bakfært"]),
        ("nb", ["Opptjent", "utlevert", "Brukt ved kassen", "Retur", "av bestilling", "allerede brukt", "Tilbakeført"]),
    ],
)
def test_the_history_reads_in_the_members_language_whatever_language_wrote_it(
    client, language, words, member, anna, order, pickup_manager, pickup_store, returns_store, sigga
):
    # given entries written in English (the worker that earns, staff whose admin is in English)
    type(order).objects.filter(pk=order.pk).update(customer=anna)
    with translation.override("en"):
        collect(order, pickup_manager)
        services.earn_for_order(order=order)
        services.redeem_at_till(account=member, store=pickup_store, amount="1600", till_receipt_number="T-9", by=None)
        receive_return(
            order=order,
            store=returns_store,
            lines=[
                LineToReturn(order_line_id=line_of(order, "Hekla lopapeysa").pk, quantity=1, reason="faulty", damaged=1)
            ],
            by=sigga,
        )
    # when Anna reads her page in her language
    client.force_login(anna)
    page = client.get(reverse("rewards:member"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # then every line's kind and reason is in it, none in English
    history = page[page.index('data-testid="rewards-history"') :]
    for word in words:
        assert word in history
    for english in ("Earned", "handed over", "Redeemed at the till", "Return ", "already spent", "Reversed"):
        assert english not in history


@pytest.mark.parametrize(
    ("language", "used"),
    [("en", "\u2212ISK\xa0333"), ("is", "\u2212333\xa0kr."), ("nb", "\u2212333\xa0ISK")],
)
def test_points_used_show_the_same_minus_sign_as_checkout_in_every_language(
    client, anna, member, pickup_store, language, used
):
    # given Anna earned points and used 333 of them at the till
    services.earn_in_store(account=member, store=pickup_store, till_receipt_number="T-1", amount="20000", by=None)
    services.redeem_at_till(account=member, store=pickup_store, amount="333", till_receipt_number="T-2", by=None)
    # when she reads her history
    client.force_login(anna)
    page = client.get(reverse("rewards:member"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    history = page[page.index('data-testid="rewards-history"') :]
    # then the amount used carries the minus sign (U+2212), as checkout and order pages write it, not a hyphen
    assert used in history
    assert "-ISK" not in history and "-333" not in history
