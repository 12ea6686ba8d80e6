"""The O2O dashboard in the admin: per store, for a manager's stores, or for the chain.

A manager sees only the stores they manage (Store.managers; stores.admin_scoping): the store
field offers only those, and the same form checks the store of a CSV export, so a store id typed
into either URL finds nothing. A superuser also sees the chain. Every figure and chart is read
from the roll-up rows (analytics.selectors), never from orders, so the page costs the same
number of queries however many orders there are.
"""

import csv
import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from o2o_site.admin_money import money_display
from stores.admin_scoping import StoreScopedAdminMixin, managed_store_list

from . import charts
from .models import FIGURE_FIELDS, DailyStoreFigures
from .selectors import Period, build_dashboard, rows_in_scope

DEFAULT_DAYS = 28
# A longer range draws a bar a pixel wide; the CSV of a year is still one request.
MAX_DAYS = 400


class StoreSelect(forms.Select):
    """Django's select, its options written inline: the stock widget renders a template per
    option, which for a chain of 300 stores cost a quarter of the dashboard's time."""

    template_name = "analytics/widgets/store_select.html"


class DashboardForm(forms.Form):
    """Which figures: a store of the user's (or all they may see), and the days from `start` to
    `end`, both included. Errors stay at their field, with what was typed."""

    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None, widget=StoreSelect)
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, stores, chain: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.stores = {store.pk: store for store in stores}
        everything = _("All stores (the chain)") if chain else _("All my stores")
        self.fields["store"].choices = [("", everything)] + [
            (store.pk, f"{store.name}, {store.city}") for store in stores
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The last day is before the first."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        return cleaned

    @property
    def chosen_store(self):
        return self.stores.get(self.cleaned_data.get("store"))

    @property
    def period(self) -> Period:
        return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


@admin.register(DailyStoreFigures)
class DailyStoreFiguresAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """The roll-up rows themselves (read only, for checking a day), and the dashboard beside them."""

    # Amounts as money through the one path; points are points, not money.
    _money_fields = [
        name
        for name in FIGURE_FIELDS
        if DailyStoreFigures._meta.get_field(name).get_internal_type() == "DecimalField"
        and not name.startswith("points_")
    ]
    list_display = [
        "day",
        "store",
        "orders_web",
        money_display(DailyStoreFigures, "revenue_web"),
        "orders_in_store",
        money_display(DailyStoreFigures, "revenue_in_store"),
        "computed_at",
    ]
    exclude = _money_fields
    readonly_fields = [money_display(DailyStoreFigures, name) for name in _money_fields]
    list_filter = ["day"]
    list_select_related = ["store"]
    date_hierarchy = "day"
    store_path = "store"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @property
    def _prefix(self):
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name=f"{self._prefix}_dashboard"),
            path(
                "dashboard/<slug:chart>.csv",
                self.admin_site.admin_view(self.csv_view),
                name=f"{self._prefix}_dashboard_csv",
            ),
            *super().get_urls(),
        ]

    def admin_pages(self, request):
        """The dashboard as an entry of the admin's index and menu (o2o_site.admin_site)."""
        if not self.has_view_permission(request):
            return []
        return [
            {
                "name": _("Dashboard"),
                "object_name": "Dashboard",
                "perms": {"view": True},
                "admin_url": reverse(f"admin:{self._prefix}_dashboard"),
                "add_url": None,
                "view_only": True,
            }
        ]

    def _form(self, request) -> DashboardForm:
        stores = managed_store_list(request)
        chain = request.user.is_superuser
        if {"start", "end", "store"} & set(request.GET):
            return DashboardForm(request.GET, stores=stores, chain=chain)
        today = timezone.localdate()
        initial = {"start": today - datetime.timedelta(days=DEFAULT_DAYS - 1), "end": today, "store": ""}
        return DashboardForm(initial, stores=stores, chain=chain)

    def _check(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    def dashboard_view(self, request):
        self._check(request)
        form = self._form(request)
        dashboard = drawn = None
        if form.is_valid():
            rows = rows_in_scope(user=request.user, store=form.chosen_store)
            dashboard = build_dashboard(rows=rows, period=form.period)
            drawn = [
                {
                    "chart": chart,
                    "drawing": charts.draw(chart),
                    "table": charts.table(chart),
                }
                for chart in dashboard.charts
            ]
        figures = [
            {
                "label": figure.spec.label,
                "help": figure.spec.help,
                "value": charts.figure_text(figure.spec.kind, figure.value),
                "previous": charts.figure_text(figure.spec.kind, figure.previous),
                "change": charts.change_text(figure.spec.kind, figure.change),
                "direction": ""
                if figure.change is None
                else ("up" if figure.change > 0 else "down" if figure.change < 0 else ""),
            }
            for figure in (dashboard.figures if dashboard else [])
        ]
        context = {
            **self.admin_site.each_context(request),
            "figures": figures,
            "opts": self.opts,
            "title": gettext("Dashboard"),
            "form": form,
            "dashboard": dashboard,
            "charts": drawn,
            # The CSV links carry the range shown, also the default one of a page opened bare.
            "query": urlencode({name: form.data.get(name) or "" for name in ("store", "start", "end")}),
            "csv_url": f"admin:{self._prefix}_dashboard_csv",
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)

    def csv_view(self, request, chart):
        """One chart's numbers as CSV: the same form as the page (a store not the user's is
        refused with the form's error), plain numbers (no currency sign or grouping), ISO days."""
        self._check(request)
        form = DashboardForm(request.GET, stores=managed_store_list(request), chain=request.user.is_superuser)
        if not form.is_valid():
            return HttpResponseBadRequest(
                "\n".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
                content_type="text/plain; charset=utf-8",
            )
        dashboard = build_dashboard(rows=rows_in_scope(user=request.user, store=form.chosen_store), period=form.period)
        found = dashboard.chart(chart)
        if found is None:
            raise Http404
        period = form.period
        scope = form.chosen_store.slug if form.chosen_store else ("chain" if request.user.is_superuser else "my-stores")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{found.slug}-{scope}-{period.start.isoformat()}-{period.end.isoformat()}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow([str(found.row_header), *(str(name) for name in found.series)])
        for row in found.rows:
            label = row.label.isoformat() if isinstance(row.label, datetime.date) else str(row.label)
            writer.writerow([label, *("" if value is None else value for value in row.values)])
        return response
