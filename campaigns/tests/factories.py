import factory
from django.utils import timezone

from campaigns.models import Campaign, ConsentSource, ConsentState, EmailConsent, OptInLevel


class EmailConsentFactory(factory.django.DjangoModelFactory):
    """A subscribed address (confirmed opt-in, given on the account page) unless told otherwise."""

    class Meta:
        model = EmailConsent

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    state = ConsentState.SUBSCRIBED
    level = OptInLevel.CONFIRMED
    source = ConsentSource.ACCOUNT
    language = "en"
    updated_at = factory.LazyFunction(timezone.now)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Winter offer {n}")
    subject_en = "Warm wool, 20 % off"
    subject_is = "Hlý ull, 20 % afsláttur"
    subject_nb = "Varm ull, 20 % rabatt"
    body_en = "Our winter wool is in."
    body_is = "Vetrarullin er komin."
    body_nb = "Vinterulla er kommet."
    rate_per_minute = 600
