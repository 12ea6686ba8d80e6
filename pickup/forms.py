"""What a shopper chooses for pickup (the time, at checkout) and what a curbside shopper and the
staff at the curb type."""

import datetime
import functools
from collections.abc import Iterable
from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from o2o_site.dates import format_weekday_date, time_range_formatter

from .curbside import MAX_ETA_MINUTES
from .models import Pickup
from .slots import FEW_PLACES_LEFT, Slot


def pickup_time_choices(slots: Iterable[Slot], *, zone: datetime.tzinfo) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a pickup time <select>: one group (an <optgroup>) per day in the
    store's time zone, each slot's value its key and its label "10:00–10:30", with the places
    left when few are."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    day = None
    language = get_language()
    for slot in slots:
        key, day_label, label = _slot_labels(slot.starts_at, slot.ends_at, zone, language)
        if day_label != day:
            day = day_label
            groups.append((day_label, []))
        if slot.remaining <= FEW_PLACES_LEFT:
            places = ngettext("%(counter)s place left", "%(counter)s places left", slot.remaining)
            label = f"{label} ({places % {'counter': slot.remaining}})"
        groups[-1][1].append((key, label))
    return groups


@functools.lru_cache(maxsize=32768)
def _slot_labels(
    starts_at: datetime.datetime, ends_at: datetime.datetime, zone: datetime.tzinfo, language: str | None
) -> tuple[str, str, str]:
    """A slot's key, its day's group label and its time label, in `language` (the active one):
    the same for every page showing the slot, so worked out once per process."""
    starts, ends = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = capfirst(format_weekday_date(starts, zone=zone))
    return Slot.key_of(starts_at), day, time_range_formatter()(starts, ends)


class PickupTimeSelect(forms.Select):
    """A <select> of grouped pickup times, written in one pass over the groups.

    The checkout lists five stores with a week of times each, some 800 <option>s: Django's Select
    builds a dict per option and renders it through a template (an include per option before,
    a loop in pickup/widgets/pickup_time_select.html after), 40 % of the checkout page's CPU.
    Here each option is one escaped f-string, and the attributes Django's own (flatatt, as
    django/forms/widgets/attrs.html writes them): the elements, attributes and text are Django's
    Select's (pickup/tests/test_pickup_time_field.py compares them) in a tenth of the time.
    """

    groups = None  # the field's choices as they are (PickupTimeField), else its normalised ones

    def use_required_attribute(self, initial):
        # Never required: none chosen means "the earliest time free". (Django's Select would
        # look at the first choice, normalising every one to find it.)
        return False

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        parts = [f'<select name="{escape(name)}"{attributes}>']
        for group, options in self.groups if self.groups is not None else self.choices:
            parts.append(f'<optgroup label="{escape(group)}">')
            for key, label in options:
                selected = " selected" if str(key) in chosen else ""
                parts.append(f'<option value="{escape(key)}"{selected}>{escape(label)}</option>')
            parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value above escaped (html.escape, as Django's escape)


class PickupTimeField(forms.ChoiceField):
    """One store's free pickup times (pickup.slots.available_slots), grouped by day; empty means
    "the earliest time free"."""

    widget = PickupTimeSelect

    def __init__(self, *, slots: Iterable[Slot], zone: datetime.tzinfo, **kwargs):
        kwargs.setdefault("required", False)
        groups = pickup_time_choices(slots, zone=zone)
        # Normalised (Django walks every choice) only if the field is validated; the widget
        # writes the groups as they are.
        super().__init__(choices=lambda: groups, **kwargs)
        self.groups = self.widget.groups = groups


class OnTheWayForm(forms.Form):
    eta_minutes = forms.IntegerField(
        label=_("I will be there in (minutes)"),
        min_value=0,
        max_value=MAX_ETA_MINUTES,
        initial=10,
        error_messages={
            "required": _("Enter in how many minutes you expect to arrive."),
            "invalid": _("Enter the minutes as a whole number, such as 10."),
            "min_value": _("Enter 0 or more minutes."),
            "max_value": _("Enter at most %(limit_value)s minutes."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-testid": "eta-input"}),
    )


class CheckInForm(forms.Form):
    vehicle = forms.CharField(
        label=_("Your car"),
        max_length=120,
        required=False,
        help_text=_("Colour, make or plate, so we find you quickly."),
        widget=forms.TextInput(attrs={"data-testid": "vehicle-input"}),
    )

    def __init__(self, *args, bays=0, **kwargs):
        super().__init__(*args, **kwargs)
        if bays:
            wrong = _("Bays are numbered 1 to %(bays)s. Check the sign by your parking spot.") % {"bays": bays}
            self.fields["bay"] = forms.IntegerField(
                label=_("Bay number"),
                min_value=1,
                max_value=bays,
                required=False,
                error_messages={"invalid": wrong, "min_value": wrong, "max_value": wrong},
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-testid": "bay-input"}),
            )
            self.order_fields(["bay", "vehicle"])


class HandOverForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=Pickup._meta.get_field("code").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "data-testid": "hand-over-code"}),
        error_messages={"required": _("Ask the shopper for their pickup code.")},
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().replace(" ", "")
