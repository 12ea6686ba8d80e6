"""API channels and keys in the admin: superusers only (a key reaches every store of its channel).

A key is made on the add page: the page after saving shows it once, and only its prefix and a
digest are kept (api.services.create_api_key). Keys are revoked, never edited.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiChannel, ApiKey
from .services import create_api_key, revoke_api_key


class SuperuserOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(ApiChannel)
class ApiChannelAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "kind", "requests_per_minute", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["stores"]


@admin.register(ApiKey)
class ApiKeyAdmin(SuperuserOnlyAdmin):
    list_display = ["name", "prefix", "channel", "created_at", "revoked_at"]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["channel"]
    search_fields = ["name", "prefix", "channel__name"]
    fields = ["channel", "name"]
    readonly_fields = ["prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["channel", "name"] if obj is None else ["channel", "name", "prefix", "created_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["channel", "prefix", "created_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = create_api_key(channel=form.cleaned_data["channel"], name=form.cleaned_data["name"])
        obj.pk, obj._state.adding, obj._state.db = key.pk, False, key._state.db
        obj.prefix, obj.created_at = key.prefix, key.created_at
        request._api_key_shown_once = raw

    def response_add(self, request, obj, post_url_continue=None):
        # The key itself, on this page only: it is not stored and never shown again.
        return TemplateResponse(
            request,
            "admin/api/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "key": obj,
                "raw_key": request._api_key_shown_once,
                "title": _("API key created"),
            },
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            revoke_api_key(key=key)
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", len(keys)) % {"count": len(keys)},
            messages.SUCCESS,
        )
