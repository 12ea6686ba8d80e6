from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InStoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "instore"
    verbose_name = _("In store")
