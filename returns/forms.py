"""Forms of the returns pages: the shopper's "return items", and staff's lookup and check-in.
They check what was typed and keep it; the services decide (quantities, the window, the money)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from orders.models import OrderLine

from .models import Condition, Resolution, ReturnReason
from .services import ExchangeItem, LineToReturn


class LineFieldsMixin:
    """One group of fields per order line that may be returned: how many, why, why in words."""

    def add_line_fields(self, lines: list[tuple[OrderLine, int]], *, initial: dict[int, dict] | None = None) -> None:
        self.lines = lines
        initial = initial or {}
        for line, left in lines:
            start = initial.get(line.pk, {})
            self.fields[f"line-{line.pk}-quantity"] = forms.TypedChoiceField(
                label=_("How many to return"),
                choices=[(units, str(units)) for units in range(left + 1)],
                coerce=int,
                required=False,
                empty_value=0,
                initial=start.get("quantity", 0),
            )
            self.fields[f"line-{line.pk}-reason"] = forms.ChoiceField(
                label=_("Why"),
                choices=[("", "—"), *ReturnReason.choices],
                required=False,
                initial=start.get("reason", ""),
            )
            self.fields[f"line-{line.pk}-note"] = forms.CharField(
                label=_("Why, in a few words (for “Other”)"),
                max_length=255,
                required=False,
                initial=start.get("note", ""),
            )

    def line_groups(self):
        """[(order line, units left, quantity field, reason field, note field)] for the template."""
        return [
            (
                line,
                left,
                self[f"line-{line.pk}-quantity"],
                self[f"line-{line.pk}-reason"],
                self[f"line-{line.pk}-note"],
            )
            for line, left in self.lines
        ]

    def clean_lines(self, cleaned: dict) -> None:
        chosen = False
        for line, _left in self.lines:
            quantity = cleaned.get(f"line-{line.pk}-quantity") or 0
            if not quantity:
                continue
            chosen = True
            reason = cleaned.get(f"line-{line.pk}-reason")
            if not reason:
                self.add_error(f"line-{line.pk}-reason", _("Choose why you return it."))
            elif reason == ReturnReason.OTHER and not cleaned.get(f"line-{line.pk}-note", "").strip():
                self.add_error(f"line-{line.pk}-note", _("Say in a few words why you return it."))
        if not chosen:
            raise forms.ValidationError(_("Choose at least one item to return."))

    def chosen_lines(self, conditions_of: dict[int, dict] | None = None) -> list[LineToReturn]:
        chosen = []
        for line, _left in self.lines:
            quantity = self.cleaned_data.get(f"line-{line.pk}-quantity") or 0
            if quantity:
                chosen.append(
                    LineToReturn(
                        order_line_id=line.pk,
                        quantity=quantity,
                        reason=ReturnReason(self.cleaned_data[f"line-{line.pk}-reason"]),
                        reason_note=self.cleaned_data.get(f"line-{line.pk}-note", ""),
                        **((conditions_of or {}).get(line.pk) or {}),
                    )
                )
        return chosen


# What the shopper chooses, in their own voice; staff see Resolution's labels.
SHOPPER_RESOLUTION_CHOICES = [
    (Resolution.ORIGINAL_PAYMENT, _("Refund to how I paid")),
    *[(value, label) for value, label in Resolution.choices if value != Resolution.ORIGINAL_PAYMENT],
]


class StartReturnForm(LineFieldsMixin, forms.Form):
    resolution = forms.ChoiceField(
        label=_("What would you like back?"),
        choices=SHOPPER_RESOLUTION_CHOICES,
        initial=Resolution.ORIGINAL_PAYMENT,
        widget=forms.RadioSelect,
    )

    def __init__(self, data=None, *, lines: list[tuple[OrderLine, int]]):
        super().__init__(data)
        self.add_line_fields(lines)

    def clean(self):
        cleaned = super().clean()
        self.clean_lines(cleaned)
        return cleaned


class FindOrderForm(forms.Form):
    query = forms.CharField(
        label=_("Order number, return code or scanned QR code"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    contact = forms.CharField(
        label=_("The shopper's e-mail or phone"),
        max_length=254,
        required=False,
        help_text=_("Needed with the order number for an order picked up at another store."),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("query", "").strip() and not cleaned.get("contact", "").strip():
            raise forms.ValidationError(_("Type or scan the order number, the order's QR code or the return code."))
        return cleaned


class ReceiveReturnForm(LineFieldsMixin, forms.Form):
    """Staff check units in at their store: per line how many, why, and how many of them are in
    each condition; how the shopper wants the money; the till's number for a till payment; a
    reason to take it after the window. `amount` is the refund the confirmation showed."""

    store = forms.ModelChoiceField(label=_("Returned at"), queryset=None, empty_label=None)
    resolution = forms.ChoiceField(label=_("Refund as"), choices=Resolution.choices)
    till_receipt_number = forms.CharField(
        label=_("Till's receipt number"),
        max_length=40,
        required=False,
        help_text=_(
            "Paid at the till: refund it at the till first, then enter the number of its return receipt. "
            "An exchange for a dearer item: take the difference at the till, then enter its receipt number."
        ),
    )
    override_reason = forms.CharField(
        label=_("Take it back after the return period, because"),
        max_length=255,
        required=False,
        help_text=_("Only when the return period has ended: recorded with your name."),
    )
    # The refund the confirmation showed; for an exchange, the difference (negative: the shopper pays).
    amount = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=12, decimal_places=2)

    def __init__(self, data=None, *, lines, stores, initial_lines=None, initial=None):
        super().__init__(data, initial=initial)
        self.fields["store"].queryset = stores
        self.exchange_products = {}
        self.add_line_fields(lines, initial=initial_lines)
        for line, left in lines:
            start = (initial_lines or {}).get(line.pk, {})
            self.fields[f"line-{line.pk}-exchange"] = forms.CharField(
                label=_("Exchange for (SKU)"),
                max_length=64,
                required=False,
                widget=forms.TextInput(attrs={"list": f"exchange-{line.pk}", "autocomplete": "off", "size": 14}),
            )
            for condition in Condition:
                self.fields[f"line-{line.pk}-{condition.value}"] = forms.TypedChoiceField(
                    label=condition.label,
                    choices=[(units, str(units)) for units in range(left + 1)],
                    coerce=int,
                    required=False,
                    empty_value=0,
                    initial=start.get(condition.value, 0),
                )

    def receive_groups(self):
        """line_groups, each with its fields per condition (resellable, damaged, to inspect) and
        the SKU it is exchanged for."""
        return [
            (
                *group,
                [self[f"line-{group[0].pk}-{condition.value}"] for condition in Condition],
                self[f"line-{group[0].pk}-exchange"],
            )
            for group in self.line_groups()
        ]

    def _clean_exchange(self, cleaned: dict) -> None:
        """With "exchange", the SKU each swapped line goes for (at least one), each a product of
        the shop; the units given are the line's units brought back."""
        typed = {
            line.pk: " ".join((cleaned.get(f"line-{line.pk}-exchange") or "").split())
            for line, _left in self.lines
            if cleaned.get(f"line-{line.pk}-quantity")
        }
        typed = {pk: sku for pk, sku in typed.items() if sku}
        self.exchange_products: dict[int, Product] = {}
        if cleaned.get("resolution") != Resolution.EXCHANGE:
            if typed:
                self.add_error("resolution", _("Choose “exchange” to give the shopper other items."))
            return
        if not typed:
            chosen = [line for line, _left in self.lines if cleaned.get(f"line-{line.pk}-quantity")]
            if chosen:
                self.add_error(f"line-{chosen[0].pk}-exchange", _("Give the SKU of what the shopper takes instead."))
            return
        wanted = Q()
        for sku in typed.values():
            wanted |= Q(sku__iexact=sku)
        products = {product.sku.upper(): product for product in Product.objects.filter(wanted)}
        for pk, sku in typed.items():
            product = products.get(sku.upper())
            if product is None:
                self.add_error(f"line-{pk}-exchange", _("No product has the SKU %(sku)s.") % {"sku": sku})
            else:
                self.exchange_products[pk] = product

    def clean(self):
        cleaned = super().clean()
        self.clean_lines(cleaned)
        for line, _left in self.lines:
            quantity = cleaned.get(f"line-{line.pk}-quantity") or 0
            counted = sum(cleaned.get(f"line-{line.pk}-{condition.value}") or 0 for condition in Condition)
            if quantity and counted != quantity:
                self.add_error(
                    f"line-{line.pk}-quantity",
                    _("Give the condition of each unit: %(counted)s of %(quantity)s are given.")
                    % {"counted": counted, "quantity": quantity},
                )
            elif not quantity and counted:
                self.add_error(f"line-{line.pk}-quantity", _("Say how many units come back."))
        self._clean_exchange(cleaned)
        return cleaned

    def exchange_items(self) -> list[ExchangeItem]:
        """What the shopper takes in exchange: for each swapped line, its units of the product typed."""
        return [
            ExchangeItem(product_id=product.pk, quantity=self.cleaned_data[f"line-{pk}-quantity"])
            for pk, product in self.exchange_products.items()
        ]

    def lines_to_return(self) -> list[LineToReturn]:
        return self.chosen_lines(
            {
                line.pk: {
                    "resellable": self.cleaned_data.get(f"line-{line.pk}-resellable") or 0,
                    "damaged": self.cleaned_data.get(f"line-{line.pk}-damaged") or 0,
                    "to_inspect": self.cleaned_data.get(f"line-{line.pk}-to_inspect") or 0,
                }
                for line, _left in self.lines
            }
        )

    @property
    def confirmed_amount(self) -> Decimal | None:
        return self.cleaned_data.get("amount")
