from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core import checks as django_checks

from . import checks


class SiteConfig(AppConfig):
    """o2o_site as an app, the lowest layer: its template tags (`{% load money %}`, `{% load fragments %}`)."""

    name = "o2o_site"
    verbose_name = "Norðurbúð"
    default = True

    def ready(self):
        # The settings that must not be forgotten (o2o_site/checks.py).
        for check, tags in checks.CHECKS:
            django_checks.register(check, *tags)


class ShopAdminConfig(AdminConfig):
    """django.contrib.admin, running the shop's admin site (o2o_site.admin_site)."""

    default_site = "o2o_site.admin_site.ShopAdminSite"
