from django import forms
from django.utils.translation import gettext_lazy as _

from o2o_site.money import AmountField
from orders.models import CancelReason, OrderEvent
from payment.models import Payment, RefundReason
from pickup.models import Pickup


def _units_errors(most: str) -> dict:
    """The shop's words for a line's units on a staff screen, not Django's "Ensure this value is
    less than or equal to 1": `most` says what the limit is ("At most %(limit_value)s …")."""
    return {
        "invalid": _("Enter a whole number of units, such as 0, 1 or 2."),
        "min_value": _("Enter 0 or more units."),
        "max_value": most,
    }


class CollectOrderForm(forms.Form):
    """What staff type at the counter: the code the shopper shows (from the e-mail or order page),
    how many of each line the shopper takes (all, unless staff change it), and, for an order paid
    at the till, the till's receipt number."""

    code = forms.CharField(
        label=_("Pickup code"),
        max_length=Pickup._meta.get_field("code").max_length,
        help_text=_("Ask the shopper for the code on their order page or in their e-mail."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "autofocus": True,
                "data-testid": "pickup-code-input",
            }
        ),
    )

    def __init__(self, *args, lines=(), offers_till=False, needs_till_receipt=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line-{line.pk}"] = forms.IntegerField(
                label=line.product_name,
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                required=False,  # left out: the whole line is handed over
                error_messages=_units_errors(_("The order has %(limit_value)s of this; no more can be handed over.")),
                widget=forms.NumberInput(
                    attrs={"class": "vIntegerField", "data-testid": f"hand-over-quantity-{line.sku}"}
                ),
            )
        if offers_till:
            # Not required by the form even when the order is paid at pickup: checkout.handover
            # refuses a hand-over without it only after checking the pickup code, so a wrong code
            # is said at once, whether or not a receipt number was typed.
            self.fields["till_receipt_number"] = forms.CharField(
                label=_("Till receipt number"),
                max_length=Payment._meta.get_field("till_receipt_number").max_length,
                required=False,
                help_text=_("Take the payment at the till, then type the number on the till's receipt."),
                widget=forms.TextInput(
                    attrs={
                        "autocomplete": "off",
                        "data-testid": "till-receipt-input",
                        **({"aria-required": "true"} if needs_till_receipt else {}),
                    }
                ),
            )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")

    def quantity_fields(self):
        return [(line, self[f"line-{line.pk}"]) for line in self.lines]

    @property
    def quantities(self) -> dict[int, int]:
        quantities = {}
        for line in self.lines:
            units = self.cleaned_data.get(f"line-{line.pk}")
            quantities[line.pk] = line.quantity if units is None else units
        return quantities


class MarkLinesReadyForm(forms.Form):
    """Which lines of a placed pickup order staff have put aside: a box per line still waiting."""

    lines = forms.TypedMultipleChoiceField(
        label=_("Items ready"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs={"data-testid": "ready-line"}),
        error_messages={
            "required": _("Tick at least one item that is ready."),
            "invalid_choice": _("One of the ticked items is no longer waiting to be got ready; look again."),
        },
    )

    def __init__(self, *args, waiting=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(line.pk, f"{line.quantity} × {line.product_name}") for line in waiting]


class CancelOrderForm(forms.Form):
    """Why the store cancels an order: a reason the shopper is told (their page and e-mail say
    it), and a note for the timeline in the staff's own words."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        # No reason chosen for the manager; "payment not completed" is the payment hold's, not theirs.
        choices=[("", "---------")]
        + [(value, label) for value, label in CancelReason.choices if value != CancelReason.PAYMENT_NOT_COMPLETED],
        error_messages={"required": _("Choose why the order is cancelled.")},
        widget=forms.Select(attrs={"data-testid": "cancel-reason"}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=OrderEvent._meta.get_field("note").max_length,
        required=False,
        help_text=_("For the order's timeline, e.g. “Out of stock: the last one was damaged.”"),
        widget=forms.TextInput(attrs={"data-testid": "cancel-note", "autocomplete": "off"}),
    )


class RefundForm(forms.Form):
    """A manager's refund: units of the lines handed over, or an amount; a reason always."""

    # Payable in the shop's currency: 100.5 is not an amount in ISK (o2o_site.money).
    amount = AmountField(
        label=_("Or an amount"),
        required=False,
        min_value=0,
        help_text=_("Leave the quantities at 0 to refund an amount instead."),
        widget=forms.NumberInput(attrs={"data-testid": "refund-amount", "step": "any"}),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        # No reason chosen for the manager: they say why, every time.
        choices=[("", "---------")]
        + [(value, label) for value, label in RefundReason.choices if value != RefundReason.NOT_HANDED_OVER],
        error_messages={"required": _("Choose why the money is refunded.")},
        widget=forms.Select(attrs={"data-testid": "refund-reason"}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        # The shopper's refund e-mail gives the reason, never this note.
        help_text=_("For staff only: the shopper is told the reason, not this note."),
        widget=forms.TextInput(attrs={"data-testid": "refund-note"}),
    )

    def __init__(self, *args, lines=(), refundable=None, till=False, handed_over=False, **kwargs):
        """`lines`: (order line, units that may still be refunded) pairs; `handed_over`: whether
        any unit was handed over (the screen says why no item can be refunded when none can)."""
        super().__init__(*args, **kwargs)
        self.lines = [(line, left) for line, left in lines]
        self.handed_over = handed_over
        for line, left in self.lines:
            self.fields[f"line-{line.pk}"] = forms.IntegerField(
                label=line.product_name,
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                error_messages=_units_errors(_("At most %(limit_value)s of this can be refunded.")),
                widget=forms.NumberInput(
                    attrs={"class": "vIntegerField", "data-testid": f"refund-quantity-{line.sku}"}
                ),
            )
        if till:
            self.fields["till_receipt_number"] = forms.CharField(
                label=_("Till return receipt number"),
                max_length=40,
                help_text=_("This order was paid at the till: pay the refund out at the till and type its number."),
                widget=forms.TextInput(attrs={"autocomplete": "off", "data-testid": "refund-till-receipt"}),
            )

    def quantity_fields(self):
        return [(line, left, self[f"line-{line.pk}"]) for line, left in self.lines]

    def clean(self):
        data = super().clean()
        if any(name == "amount" or name.startswith("line-") for name in self.errors):
            # A quantity or the amount is wrong, and says so at its field: "choose what to refund"
            # would be a second, wrong error about the same thing.
            return data
        units = {line.pk: data.get(f"line-{line.pk}") or 0 for line, _left in self.lines}
        data["lines"] = {pk: count for pk, count in units.items() if count} or None
        if data["lines"] and data.get("amount"):
            raise forms.ValidationError(_("Refund either lines or an amount."))
        if not data["lines"] and not data.get("amount"):
            raise forms.ValidationError(_("Choose what to refund: at least one item, or an amount above zero."))
        return data
