import factory
from django.contrib.auth import get_user_model

from stores.services import add_store_manager

DEMO_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"shopper{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def _persist_password(user, create, extracted, **kwargs):
        if create:
            user.save()


class StoreManagerFactory(UserFactory):
    """Staff who run one or more stores, set up as the admin does it: pass stores=[store, …]."""

    username = factory.Sequence(lambda n: f"manager{n}")
    is_staff = True

    @factory.post_generation
    def stores(user, create, extracted, **kwargs):
        if create and extracted:
            for store in extracted:
                add_store_manager(store=store, user=user)
