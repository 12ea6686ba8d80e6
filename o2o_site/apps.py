from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SiteConfig(AppConfig):
    """o2o_site as an app, the lowest layer: its template tags (`{% load money %}`, `{% load fragments %}`)."""

    name = "o2o_site"
    verbose_name = "Norðurbúð"
    default = True


class ShopAdminConfig(AdminConfig):
    """django.contrib.admin, running the shop's admin site (o2o_site.admin_site)."""

    default_site = "o2o_site.admin_site.ShopAdminSite"
