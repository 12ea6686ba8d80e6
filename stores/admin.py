import phonenumbers
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from o2o_site.csv_import import ImportRejected

from . import services
from .admin_scoping import ManagedStoreListFilter, StoreScopedAdminMixin, managed_stores
from .models import OpeningHours, PostcodeLocation, SpecialOpeningHours, StockLevel
from .stock_import import REQUIRED_COLUMNS, import_stock_csv


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class SpecialOpeningHoursInline(TranslationTabularInline):
    """Public holidays, stock-taking: other hours, or closed, on one date. Pickup times follow.
    The reason shown to shoppers has a field per shop language (stores/translation.py)."""

    model = SpecialOpeningHours
    extra = 0
    fields = ("date", "opens", "closes", "reason")


MANAGED_BY_HEAD_OFFICE = (
    "name",
    "slug",
    "is_active",
    "address",
    "postcode",
    "city",
    "country",
    "latitude",
    "longitude",
    "time_zone",
    "managers",
    # Store or warehouse: whether shoppers can see and come to it at all.
    "kind",
    # Whether a store takes payments online is the shop's decision (its providers, its contracts).
    "payment_options",
)


class StoreForm(forms.ModelForm):
    """The store page's form: the phone checked as a phone number and kept in one format."""

    def clean(self):
        """ "+354 555 0145": a real number, in international form (what the store page's tel: link
        and shoppers read); without a country code, one of the store's country. In clean(), not
        clean_phone(): the country comes after the phone on the form."""
        cleaned = super().clean()
        value = (cleaned.get("phone") or "").strip()
        if "phone" not in cleaned or not value:
            return cleaned
        country = cleaned.get("country") or self.instance.country or None
        try:
            number = phonenumbers.parse(value, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            self.add_error(
                "phone",
                ValidationError(
                    _("Enter a phone number, such as +354 555 0145 or +47 22 00 01 59."), code="invalid_phone"
                ),
            )
            return cleaned
        cleaned["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return cleaned


class StoreAdmin(StoreScopedAdminMixin, TranslationAdmin):
    form = StoreForm
    # TranslationAdmin: the parking directions have a field per shop language (stores/translation.py).
    store_path = "pk"
    list_display = ("name", "kind", "city", "country", "offers_pickup", "is_active")
    list_filter = ("kind", "country", "offers_pickup", "is_active")
    search_fields = ("name", "city", "postcode")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("managers",)
    # Registered by backoffice.admin, which adds the fulfilment apps' inlines (pickup settings, …).
    inlines = (OpeningHoursInline, SpecialOpeningHoursInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "slug",
                    "kind",
                    "is_active",
                    "offers_pickup",
                    "accepts_returns",
                    "payment_options",
                    "phone",
                    "parking",
                )
            },
        ),
        (_("Address"), {"fields": ("address", "postcode", "city", "country", "latitude", "longitude", "time_zone")}),
        (_("Staff"), {"fields": ("managers",)}),
    )

    def store_id_of(self, store):
        return store.pk

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        # A manager keeps the store's phone, opening hours and pickup settings. Who runs the store,
        # its name, address and place (what shoppers' links and the store locator rest on) are
        # decided above the store.
        return MANAGED_BY_HEAD_OFFICE

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "managers":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_active=True).order_by("username")
            kwargs["help_text"] = _(
                "Managers see and run this store's orders and stock in the admin; "
                "saving makes them staff in the “Store managers” group."
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.stores_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.stores_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.stores_changed()

    def save_related(self, request, form, formsets, change):
        # The opening hours are an inline: saved here, after save_model.
        services.stores_changed()
        # Managers go through the service, which also makes them staff in the managers group.
        chosen = form.cleaned_data.pop("managers", None)
        super().save_related(request, form, formsets, change)
        if chosen is None:
            return
        store = form.instance
        current = set(store.managers.all())
        for user in set(chosen) - current:
            services.add_store_manager(store=store, user=user)
        for user in current - set(chosen):
            services.remove_store_manager(store=store, user=user)


class StockCountForm(forms.ModelForm):
    """A stock count, checked against the units reserved for open orders (the service's rule)."""

    class Meta:
        model = StockLevel
        fields = ("store", "product", "on_hand")

    def clean_on_hand(self):
        on_hand = self.cleaned_data["on_hand"]
        if self.instance.pk is not None:
            try:
                services.check_count_covers_reserved(on_hand=on_hand, reserved=self.instance.reserved)
            except services.StockError as error:
                raise ValidationError(str(error), code="below_reserved") from error
        return on_hand


class StockImportForm(forms.Form):
    file = forms.FileField(
        label=_("Stock counts (CSV)"),
        help_text=_(
            "UTF-8, with the header store,sku,on_hand, or store;sku;on_hand as Excel saves CSV in Iceland and "
            "Norway: the store's slug, the product's SKU and the units on hand. Empty rows are skipped. One bad "
            "row rejects the whole file, with every problem listed."
        ),
    )


@admin.register(StockLevel)
class StockLevelAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    form = StockCountForm
    change_list_template = "admin/stores/stocklevel/change_list.html"
    list_display = ("product", "store", "on_hand", "reserved", "available_display")
    list_editable = ("on_hand",)
    list_filter = (("store", ManagedStoreListFilter),)
    search_fields = ("product__name", "product__sku")
    list_select_related = ("store", "product")
    autocomplete_fields = ("product",)
    list_per_page = 100
    list_max_show_all = 500

    def get_fields(self, request, obj=None):
        return ("store", "product", "on_hand", "reserved", "available_display", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("reserved", "available_display", "updated_at")
        # A row is one product at one store for good; only the count changes.
        return ("store", "product", "reserved", "available_display", "updated_at")

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=StockCountForm, **kwargs)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="stores_stocklevel_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """ "Import stock": a stocktake's CSV for the manager's own stores (any store for a
        superuser), through the same all-or-nothing service as manage.py import_stock."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = StockImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            stores = None if request.user.is_superuser else managed_stores(request)
            try:
                result = import_stock_csv(data=form.cleaned_data["file"].read(), stores=stores)
            except ImportRejected as rejected:
                errors = rejected.errors
            except services.StockError as error:  # a database guard refused it: nothing written
                errors = [str(error)]
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(total)s stock count imported: %(updated)s updated, %(created)s new.",
                        "%(total)s stock counts imported: %(updated)s updated, %(created)s new.",
                        result.total,
                    )
                    % {"total": result.total, "updated": result.updated, "created": result.created},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:stores_stocklevel_changelist"))
        stores = list(managed_stores(request).order_by("city", "name").values_list("slug", "name"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import stock"),
            "form": form,
            "errors": errors,
            "columns": ",".join(REQUIRED_COLUMNS),
            "stores": stores if not request.user.is_superuser else [],
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/stores/stocklevel/import.html", context)

    @admin.display(description=_("available"))
    def available_display(self, level):
        return level.available if level.pk else "—"

    def save_model(self, request, obj, form, change):
        # Through the service: the row is locked and the rule is checked again against the
        # reserved units as they are now, not as they were when the form was shown.
        try:
            level = services.set_on_hand(store=obj.store, product=obj.product, on_hand=form.cleaned_data["on_hand"])
        except services.StockError as error:
            request._stock_counts_refused = obj._count_refused = True
            self.message_user(
                request,
                _("%(level)s was not changed: %(reason)s") % {"level": obj, "reason": error},
                messages.ERROR,
            )
            obj.refresh_from_db()
            return
        obj.pk, obj.on_hand, obj.reserved, obj.updated_at = level.pk, level.on_hand, level.reserved, level.updated_at

    def log_change(self, request, obj, message):
        if not getattr(obj, "_count_refused", False):
            super().log_change(request, obj, message)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # Django reports "changed successfully" after save_model; not when the count was refused.
        if level == messages.SUCCESS and getattr(request, "_stock_counts_refused", False):
            return
        super().message_user(request, message, level, *args, **kwargs)


@admin.register(PostcodeLocation)
class PostcodeLocationAdmin(admin.ModelAdmin):
    list_display = ("postcode", "place_name", "country", "latitude", "longitude")
    list_filter = ("country",)
    search_fields = ("postcode", "place_name")
