"""Who may use the JSON API (api/endpoints.py): channels (a kiosk, an app, a partner) and their keys.

A channel sees only its stores: availability, the store finder, delivery options and orders are
answered for them alone, and a kiosk places orders only at them. A key is shown once when it is
made (api.keys.create_api_key) and kept as its prefix (to find it) and a SHA-256 digest of the
whole key (to check it): a leaked database gives no usable key.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    """What a channel is. Only a kiosk has a cart and a checkout (in a store's context); apps and
    partners read."""

    KIOSK = "kiosk", _("Kiosk in a store")
    APP = "app", _("App")
    PARTNER = "partner", _("Partner")


class ApiChannel(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    stores = models.ManyToManyField(
        "stores.Store",
        verbose_name=_("stores"),
        related_name="api_channels",
        help_text=_("The stores this channel may see and, for a kiosk, sell at."),
    )
    requests_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=120,
        help_text=_("Per key: a key that asks more often is answered 429 until the minute is over."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API channel")
        verbose_name_plural = _("API channels")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requests_per_minute__gte=1),
                name="api_rate_positive",
                violation_error_message=_("The rate must be at least 1 request a minute."),
            )
        ]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    channel = models.ForeignKey(ApiChannel, verbose_name=_("channel"), related_name="keys", on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=120, help_text=_("Where the key is used, e.g. “Kiosk by the door”."))
    # The key's visible start ("o2o_" + 12 characters): finds the row, and names the key in logs.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    # SHA-256 of the whole key, hex. The key holds 256 random bits, so a plain hash is enough
    # (a password hasher's slowness guards low-entropy secrets only).
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["channel", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.channel.is_active
