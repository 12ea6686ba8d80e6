"""Coupons in the admin: made and changed by staff with the coupon permissions; a batch of
single-use codes generated from a coupon's page and exported as CSV; redemptions seen per store
(a store manager sees their stores' only).

Head office (coupons.any_store_coupon, and superusers) makes coupons for any store or for the
whole chain. A store manager makes and sees only coupons restricted to their own stores
(CouponQuerySet.for_stores_managed_by): the stores field offers theirs and must name one, so a
coupon of theirs can never be widened to another store or to every store; its batches likewise."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from o2o_site.admin_money import AmountFieldsAdmin, money_display
from o2o_site.money import format_money, is_representable, too_many_decimals
from o2o_site.vat import format_rate
from stores.admin_scoping import StoreScopedAdminMixin, managed_stores, scope_queryset_to_stores

from .codes import VALID_CODE, normalise_code
from .forms import TillRedemptionForm
from .models import ANY_STORE_PERMISSION, Coupon, CouponBatch, CouponCode, CouponKind, Redemption
from .selectors import redemption_figures
from .services import MAX_BATCH_SIZE, CouponRefused, Refusal, generate_batch, redeem_at_till


class SharedCodeForm(forms.ModelForm):
    class Meta:
        model = CouponCode
        fields = ["code"]

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if not VALID_CODE.match(code):
            raise forms.ValidationError(_("A code is 3 to 32 letters and digits."))
        return code


class SharedCodeInline(admin.TabularInline):
    """The coupon's codes anyone may use; its single-use codes are in its batches."""

    model = CouponCode
    form = SharedCodeForm
    extra = 1
    verbose_name = _("shared code")
    verbose_name_plural = _("shared codes (anyone may use them, within the limits)")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(single_use=False)


class BatchInline(admin.TabularInline):
    model = CouponBatch
    extra = 0
    fields = ["label", "size", "created_at", "created_by", "export"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("CSV"))
    def export(self, batch):
        url = reverse("admin:coupons_couponbatch_export", args=[batch.pk])
        return format_html('<a href="{}">{}</a>', url, _("Export codes as CSV"))


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = [
            "name",
            "kind",
            "value",
            "is_active",
            "valid_from",
            "valid_until",
            "minimum_order",
            "limit_per_customer",
            "limit_total",
            "online",
            "in_store",
            "stores",
            "categories",
        ]

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind == CouponKind.PERCENT and value is not None and not 0 < value <= 100:
            self.add_error("value", _("A percent coupon takes off more than 0 and at most 100 per cent."))
        elif kind == CouponKind.AMOUNT and value is not None and value <= 0:
            self.add_error("value", _("An amount coupon takes off more than zero."))
        elif kind == CouponKind.AMOUNT and value is not None and not is_representable(value):
            # Money in the shop's currency: 10.5 ISK would be shown as ISK 11 and take that off.
            self.add_error("value", too_many_decimals())
        elif kind == CouponKind.FREE_DELIVERY:
            cleaned["value"] = 0
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must be after the start."))
        if cleaned.get("online") is False and cleaned.get("in_store") is False:
            raise forms.ValidationError(_("Allow the coupon online, in store, or both."))
        if self.own_stores_only and "stores" in cleaned and not cleaned["stores"]:
            self.add_error(
                "stores", _("Choose one or more of your stores: a coupon for every store is made by head office.")
            )
        return cleaned

    # Set for a store manager (CouponAdmin.get_form): the coupon must name stores, theirs only
    # (the field offers no others).
    own_stores_only = False


class GenerateBatchForm(forms.Form):
    count = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=MAX_BATCH_SIZE, initial=100)
    label = forms.CharField(label=_("Label"), max_length=120, required=False)


# Refusals about the receipt number, said at its field on the till page.
RECEIPT_REFUSALS = (Refusal.BAD_RECEIPT, Refusal.RECEIPT_USED)


@admin.register(Coupon)
class CouponAdmin(AmountFieldsAdmin, admin.ModelAdmin):
    form = CouponForm
    amount_fields = ("minimum_order",)
    list_display = ["name", "kind", "value_shown", "valid_from", "valid_until", "is_active", "online", "in_store"]
    list_filter = ["kind", "is_active", "online", "in_store"]
    search_fields = ["name", "codes__code"]
    filter_horizontal = ["stores", "categories"]
    inlines = [SharedCodeInline, BatchInline]
    readonly_fields = ["figures"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "value", "is_active"]}),
        (_("When"), {"fields": ["valid_from", "valid_until"]}),
        (_("Rules"), {"fields": ["minimum_order", "limit_per_customer", "limit_total"]}),
        (_("Where"), {"fields": ["online", "in_store", "stores", "categories"]}),
        (_("Redemptions"), {"fields": ["figures"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).for_stores_managed_by(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.has_perm(ANY_STORE_PERMISSION):
            return form
        return type(form.__name__, (form,), {"own_stores_only": True})

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "stores":
            kwargs["queryset"] = managed_stores(request).order_by("city", "name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, normalise_code(search_term) or search_term)

    @admin.display(description=_("value"), ordering="value")
    def value_shown(self, coupon):
        """What the coupon takes off: "10 %" or an amount of money; nothing for free delivery."""
        if coupon.kind == CouponKind.PERCENT:
            return format_rate(coupon.value)
        if coupon.kind == CouponKind.AMOUNT:
            return format_money(coupon.value)
        return ""

    @admin.display(description=_("Redeemed (live)"))
    def figures(self, coupon):
        if coupon.pk is None:
            return "—"
        counts = redemption_figures(coupon)
        return _("%(web)s online, %(in_store)s in store") % {
            "web": counts.get("web", 0),
            "in_store": counts.get("in_store", 0),
        }

    def get_urls(self):
        own = [
            path(
                "<int:coupon_id>/generate/",
                self.admin_site.admin_view(self.generate_view),
                name="coupons_coupon_generate",
            )
        ]
        return own + super().get_urls()

    def generate_view(self, request, coupon_id):
        """Generate a batch of single-use codes for the coupon (a form: how many, a label)."""
        coupon = get_object_or_404(self.get_queryset(request), pk=coupon_id)
        if not self.has_change_permission(request, coupon):
            raise PermissionDenied
        form = GenerateBatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batch = generate_batch(
                coupon=coupon, count=form.cleaned_data["count"], label=form.cleaned_data["label"], by=request.user
            )
            self.message_user(
                request,
                _("%(count)s single-use codes generated.") % {"count": batch.size},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:coupons_coupon_change", args=[coupon.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "coupon": coupon,
            "form": form,
            "title": _("Generate single-use codes"),
        }
        return TemplateResponse(request, "coupons/admin_generate.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        extra_context["generate_url"] = reverse("admin:coupons_coupon_generate", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)


class _Echo:
    def write(self, value):
        return value


def batch_rows(batch: CouponBatch):
    """The CSV of a batch, row by row: a header, then one code per row (as stored, and grouped
    for printing) with whom it was issued to and whether it was used."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["code", "printed", "coupon", "issued_to", "used"])
    used = set(Redemption.objects.filter(code__batch=batch, status="redeemed").values_list("code_id", flat=True))
    for code in batch.codes.select_related("issued_to").order_by("pk").iterator(chunk_size=2000):
        yield writer.writerow(
            [
                code.code,
                code.display,
                batch.coupon.name,
                code.issued_to.email if code.issued_to else "",
                "yes" if code.pk in used else "no",
            ]
        )


@admin.register(CouponBatch)
class CouponBatchAdmin(admin.ModelAdmin):
    list_display = ["coupon", "label", "size", "created_at", "created_by", "export"]
    list_select_related = ["coupon", "created_by"]
    readonly_fields = ["coupon", "label", "size", "created_at", "created_by"]
    actions = None

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(coupon__in=Coupon.objects.for_stores_managed_by(request.user))

    @admin.display(description=_("CSV"))
    def export(self, batch):
        url = reverse("admin:coupons_couponbatch_export", args=[batch.pk])
        return format_html('<a href="{}">{}</a>', url, _("Export codes as CSV"))

    def get_urls(self):
        own = [
            path(
                "<int:batch_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="coupons_couponbatch_export",
            )
        ]
        return own + super().get_urls()

    def export_view(self, request, batch_id):
        """The batch's codes as a CSV file (streamed: a batch may hold tens of thousands)."""
        batch = get_object_or_404(self.get_queryset(request).select_related("coupon"), pk=batch_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        response = StreamingHttpResponse(batch_rows(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coupon-codes-{batch.pk}.csv"'
        return response


@admin.register(Redemption)
class RedemptionAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Redemptions at the manager's stores, and the till page (till_view) where staff redeem a
    shopper's coupon: scan its QR code (a scanner types the code) or type it."""

    store_path = "store"
    change_list_template = "admin/coupons/redemption/change_list.html"

    def get_urls(self):
        own = [path("till/", self.admin_site.admin_view(self.till_view), name="coupons_redemption_till")]
        return own + super().get_urls()

    def till_view(self, request):
        """The till page: one of the staff member's stores, the code, the purchase; the discount
        to give is said on success, the reason on refusal (nothing recorded then). The last
        redemptions at their stores are listed (a fixed number of queries)."""
        if not request.user.has_perm("coupons.add_redemption"):
            raise PermissionDenied
        stores = managed_stores(request).order_by("city", "name")
        form = TillRedemptionForm(request.POST or None, stores=stores)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                redemption = redeem_at_till(
                    code=data["code"],
                    store=data["store"],
                    purchase_amount=data["purchase_amount"],
                    by=request.user,
                    till_receipt=data["till_receipt"],
                )
            except CouponRefused as refused:
                field = "till_receipt" if refused.reason in RECEIPT_REFUSALS else "code"
                form.add_error(field, refused.message)
            except ValueError as error:
                form.add_error("purchase_amount", str(error))
            else:
                self.message_user(
                    request,
                    _("Coupon %(code)s: take %(discount)s off; the shopper pays %(to_pay)s.")
                    % {
                        "code": redemption.code.display,
                        "discount": format_money(redemption.discount),
                        "to_pay": format_money(redemption.purchase_amount - redemption.discount),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:coupons_redemption_till") + f"?store={data['store'].pk}")
        elif request.method == "GET" and request.GET.get("store"):
            form.initial["store"] = request.GET["store"]
        recent = (
            scope_queryset_to_stores(Redemption.objects.all(), request, "store")
            .select_related("coupon", "code", "store", "order")
            .order_by("-redeemed_at", "-pk")[:10]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "recent": recent,
            "title": _("Redeem a coupon at the till"),
        }
        return TemplateResponse(request, "coupons/till.html", context)

    list_display = [
        "redeemed_at",
        "coupon",
        "code",
        "channel",
        "store",
        "order",
        "till_receipt",
        money_display(Redemption, "discount", currency_field="currency"),
        "status",
    ]
    list_filter = ["channel", "status"]
    list_select_related = ["coupon", "code", "store", "order"]
    search_fields = ["code__code", "order__number", "till_receipt"]
    readonly_fields = [
        money_display(Redemption, field.name, currency_field="currency")
        if field.name in ("purchase_amount", "discount")
        else field.name
        for field in Redemption._meta.fields
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
