"""The shop's admin site: Django's, with a "view on site" redirect that respects store scoping.

Django's own redirect (/admin/r/<content type>/<id>/) sends any member of staff to any object's
get_absolute_url. For an order that is the shopper's signed page with the pickup code, so a
manager of one store could read another store's codes, and any staff could read a code without
the shopper. Here the redirect goes through the model's admin: it must allow "view on site",
and the object must be one the user may see there.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext


class ShopAdminSite(admin.AdminSite):
    # An empty field reads as our own screens write one (the order page's "collected at" before
    # the collection), not Django's hyphen.
    empty_value_display = "—"

    @property
    def site_header(self):
        return gettext("%(shop)s store admin") % {"shop": settings.SHOP_NAME}

    @property
    def site_title(self):
        return self.site_header

    def get_urls(self):
        urls = [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]
        return [
            path(
                "r/<int:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site),
                name="view_on_site",
            ),
            *urls,
        ]

    def _build_app_dict(self, request, label=None):
        """The index and the menu list each app's models; a ModelAdmin may add its own staff
        pages beside them (say, the orders' curbside queue) with `admin_pages(request)`, a list
        of entries shaped like the models' (name, object_name, admin_url, …)."""
        app_dict = super()._build_app_dict(request, label)
        for model, model_admin in self._registry.items():
            app = app_dict.get(model._meta.app_label)
            if app is not None and hasattr(model_admin, "admin_pages"):
                app["models"].extend(model_admin.admin_pages(request))
        return app_dict

    def view_on_site(self, request, content_type_id, object_id):
        content_type = ContentType.objects.filter(pk=content_type_id).first()
        model = content_type.model_class() if content_type else None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.view_on_site:
            raise Http404
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None or not model_admin.has_view_or_change_permission(request, obj):
            raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)
