"""Rewards in the admin: the till screen and the till's CSV import, for staff at their own stores.

- "At the till": scan the member's QR code (a scanner types its text, the member number) or type
  the number; then record her purchase at one of your stores (it earns points) or take points off
  the sale (redeem), with the till's receipt number.
- "Import till file": a CSV of members' purchases from the till, all or nothing, every bad row named.
- Members and their ledger are read-only: entries are append-only and change only through
  rewards.services. A manager sees the members served at their stores; a superuser all.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from o2o_site.csv_import import ImportRejected
from o2o_site.money import format_money
from stores.admin_scoping import managed_stores

from . import services
from .forms import FindMemberForm, TillForm, TillImportForm
from .models import RewardAccount, RewardEntry


class RewardEntryInline(admin.TabularInline):
    model = RewardEntry
    fields = (
        "created_at",
        "kind",
        "points",
        "balance_after",
        "channel",
        "store",
        "order",
        "till_receipt_number",
        "why",
        "actor",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-pk")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "order", "actor")

    @admin.display(description=_("why"))
    def why(self, entry: RewardEntry) -> str:
        return entry.reason_shown


@admin.register(RewardAccount)
class RewardAccountAdmin(admin.ModelAdmin):
    list_display = ("number", "email", "phone", "balance_shown", "joined_at")
    search_fields = ("=number", "email", "=phone")
    readonly_fields = ("number", "user", "email", "phone", "language", "balance_shown", "joined_at")
    fields = readonly_fields
    inlines = (RewardEntryInline,)
    change_list_template = "admin/rewards/rewardaccount/change_list.html"

    def get_queryset(self, request):
        return RewardAccount.objects.for_stores_managed_by(request.user).select_related("user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_till_permission(self, request):
        return request.user.has_perm("rewards.add_rewardentry")

    @admin.display(description=_("balance"))
    def balance_shown(self, obj):
        return format_money(obj.balance)

    @property
    def _prefix(self):
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def get_urls(self):
        return [
            path("till/", self.admin_site.admin_view(self.find_view), name=f"{self._prefix}_till"),
            path("till/<str:number>/", self.admin_site.admin_view(self.till_view), name=f"{self._prefix}_till_member"),
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{self._prefix}_import"),
            *super().get_urls(),
        ]

    def _context(self, request, **context):
        return {**self.admin_site.each_context(request), "opts": self.opts, "has_view_permission": True, **context}

    def _stores(self, request):
        return managed_stores(request).filter(is_active=True).order_by("city", "name")

    def find_view(self, request):
        if not self.has_till_permission(request):
            raise PermissionDenied
        form = FindMemberForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                account = services.find_member(form.cleaned_data["member"])
            except services.RewardRefused as refused:
                form.add_error("member", str(refused))
            else:
                return HttpResponseRedirect(reverse(f"admin:{self._prefix}_till_member", args=[account.number]))
        return TemplateResponse(
            request,
            "admin/rewards/rewardaccount/till_find.html",
            self._context(request, title=gettext("At the till"), form=form),
        )

    def till_view(self, request, number):
        if not self.has_till_permission(request):
            raise PermissionDenied
        account = RewardAccount.objects.filter(number=number).first()
        if account is None:
            raise Http404(gettext("No member has this number."))
        stores = self._stores(request)
        form = TillForm(request.POST or None, stores=stores, initial={"store": stores.first()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == TillForm.REDEEM:
                    entry = services.redeem_at_till(
                        account=account,
                        store=data["store"],
                        amount=data["amount"],
                        till_receipt_number=data["till_receipt_number"],
                        by=request.user,
                    )
                    message = gettext("%(points)s used: take it off the sale. Balance now %(balance)s.")
                else:
                    entry = services.earn_in_store(
                        account=account,
                        store=data["store"],
                        amount=data["amount"],
                        till_receipt_number=data["till_receipt_number"],
                        by=request.user,
                    )
                    message = gettext("%(points)s earned. Balance now %(balance)s.")
            except services.RewardRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    message % {"points": format_money(abs(entry.points)), "balance": format_money(entry.balance_after)},
                )
                return HttpResponseRedirect(reverse(f"admin:{self._prefix}_till_member", args=[account.number]))
        return TemplateResponse(
            request,
            "admin/rewards/rewardaccount/till.html",
            self._context(
                request,
                title=gettext("Member %(number)s") % {"number": account.number},
                account=account,
                form=form,
                no_store=not stores.exists(),
            ),
        )

    def import_view(self, request):
        if not self.has_till_permission(request):
            raise PermissionDenied
        form = TillImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            try:
                entries = services.import_till_purchases(
                    data=form.cleaned_data["file"].read(), by=request.user, stores=list(self._stores(request))
                )
            except ImportRejected as rejected:
                errors = rejected.errors
            else:
                messages.success(
                    request,
                    ngettext("%(count)s purchase imported.", "%(count)s purchases imported.", len(entries))
                    % {"count": len(entries)},
                )
                return HttpResponseRedirect(reverse(f"admin:{self._prefix}_import"))
        return TemplateResponse(
            request,
            "admin/rewards/rewardaccount/import.html",
            self._context(request, title=gettext("Import the till's file"), form=form, errors=errors),
        )
