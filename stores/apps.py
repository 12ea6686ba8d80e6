from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _refresh_store_manager_group(using, **kwargs):
    from .services import refresh_store_manager_group

    if using == "default":
        refresh_store_manager_group()


class StoresConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stores"

    def ready(self):
        # Every app's post_migrate, not only ours: permissions of the apps after us are created
        # by their own post_migrate, and the group is refreshed once they all exist.
        post_migrate.connect(_refresh_store_manager_group, dispatch_uid="stores.refresh_store_manager_group")
