from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """django.contrib.admin, running the shop's admin site (o2o_site.admin_site)."""

    default_site = "o2o_site.admin_site.ShopAdminSite"
