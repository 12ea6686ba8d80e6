from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A shopper or a member of staff. Store managers are staff linked to stores (Store.managers)."""

    preferred_store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("my store"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
