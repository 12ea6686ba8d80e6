from payment.checks import KNOWN_PAYMENT_OPTIONS, check_payment_providers, check_receipt_sellers
from stores.models import PaymentOptions

VIPPS = ("payment.vipps.VippsProvider", {"client_id": "x", "webhook_secret": ""})


def ids(settings) -> list[str]:
    return [message.id for message in check_payment_providers()]


def test_the_embedded_defaults_pass(settings):
    settings.DEBUG = True
    settings.PAYMENT_PROVIDERS = ["dummy"]
    assert ids(settings) == []


def test_an_unknown_provider_is_an_error(settings):
    settings.DEBUG = True
    settings.PAYMENT_PROVIDERS = ["vips"]
    assert ids(settings) == ["payment.E001"]


def test_the_dummy_provider_with_debug_off_is_warned_about(settings):
    settings.DEBUG = False
    settings.PAYMENT_PROVIDERS = ["dummy"]
    assert ids(settings) == ["payment.W001"]


def test_vipps_without_its_webhook_secret_is_warned_about(settings):
    settings.DEBUG = False
    settings.PAYMENT_PROVIDERS = ["vipps"]
    settings.PAYMENT_VARIANTS = {"vipps": VIPPS}
    assert ids(settings) == ["payment.W002"]


def test_taking_money_online_without_the_sellers_registration_is_warned_about(settings):
    settings.DEBUG = False
    settings.PAYMENT_PROVIDERS = ["stripe"]
    settings.RECEIPT_SELLERS = {"IS": {"name": "Norðurbúð ehf.", "kennitala": "550123-4560"}, "NO": {"name": "X AS"}}

    messages = check_receipt_sellers()

    assert [message.id for message in messages] == ["payment.W003"]
    assert "NO" in messages[0].msg and "SELLER_NO_ORGANISASJONSNUMMER" in messages[0].hint
    # nothing to warn about on the embedded defaults or without online payment
    settings.PAYMENT_PROVIDERS = []
    assert check_receipt_sellers() == []


def test_a_shop_payment_option_the_shop_does_not_know_is_an_error(settings):
    settings.DEBUG = True
    settings.PAYMENT_PROVIDERS = ["dummy"]
    settings.SHOP_PAYMENT_OPTIONS = "cash"
    assert ids(settings) == ["payment.E002"]
    settings.SHOP_PAYMENT_OPTIONS = "at_pickup"
    assert ids(settings) == []
    assert set(KNOWN_PAYMENT_OPTIONS) == set(PaymentOptions.values)
