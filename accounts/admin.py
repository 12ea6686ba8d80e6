from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class ShopUserAdmin(UserAdmin):
    """Shoppers and staff. Who manages which store is set on the store (Stores › managers)."""

    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Shop"), {"fields": ("phone", "preferred_store", "managed_stores_display")}),
    )
    readonly_fields = ("managed_stores_display",)
    list_display = ("username", "email", "first_name", "last_name", "preferred_store", "is_staff")
    list_select_related = ("preferred_store",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("managed_stores")

    @admin.display(description=_("manages"))
    def managed_stores_display(self, user):
        return ", ".join(store.name for store in user.managed_stores.all()) or "—"
