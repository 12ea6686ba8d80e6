from django.contrib import admin

from .models import TransferRoute


@admin.register(TransferRoute)
class TransferRouteAdmin(admin.ModelAdmin):
    """The shop's routes between locations (head office: the Store managers group has no rights
    here). Without a row, locations of one country are linked with TRANSFER_DEFAULT_LEAD_DAYS."""

    list_display = ("source", "destination", "lead_days", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("source", "destination")
    autocomplete_fields = ("source", "destination")
    search_fields = ("source__name", "destination__name")
