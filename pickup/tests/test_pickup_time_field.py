"""The checkout's pickup time picker: a Django form field with grouped choices, one <optgroup> per
day in the store's time zone, written as Django's Select writes it (in one pass: the checkout
lists some 800 of them)."""

import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from django import forms
from django.utils import translation

from pickup.forms import PickupTimeField, pickup_time_choices
from pickup.slots import Slot

OSLO = ZoneInfo("Europe/Oslo")


def slot(day, hour, minute=0, *, booked=0, capacity=10):
    starts = datetime.datetime(2026, 11, day, hour, minute, tzinfo=OSLO).astimezone(datetime.UTC)
    return Slot(starts_at=starts, ends_at=starts + datetime.timedelta(minutes=30), capacity=capacity, booked=booked)


class Picker(HTMLParser):
    """The <optgroup> labels and, per group, the (value, label, selected) of its options."""

    def __init__(self):
        super().__init__()
        self.groups, self.option = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "optgroup":
            self.groups.append((attrs["label"], []))
        elif tag == "option":
            self.option = [attrs["value"], "", "selected" in attrs]

    def handle_data(self, data):
        if self.option is not None:
            self.option[1] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self.groups[-1][1].append(tuple(self.option))
            self.option = None


def rendered(field, **initial):
    class TimeForm(forms.Form):
        time = field

    parser = Picker()
    parser.feed(str(TimeForm(initial=initial)["time"]))
    return parser.groups


def test_times_are_grouped_by_the_stores_day_and_name_the_places_left_when_few():
    # given a slot at 23:00 on Saturday, one at 00:30 on Sunday (still Saturday in UTC) and one
    # at 10:30 on Sunday, nearly full
    slots = [slot(21, 23), slot(22, 0, 30), slot(22, 10, 30, booked=8)]
    assert slots[1].starts_at.day == 21

    # when the picker is rendered in English, the second Sunday slot chosen
    with translation.override("en"):
        groups = rendered(PickupTimeField(slots=slots, zone=OSLO), time=slots[2].key)

    # then one group per day in Oslo, times in Oslo time, the places left on the nearly full
    # one, and the chosen one selected
    assert groups == [
        ("Saturday 21 November", [(slots[0].key, "23:00–23:30", False)]),
        (
            "Sunday 22 November",
            [(slots[1].key, "00:30–01:00", False), (slots[2].key, "10:30–11:00 (2 places left)", True)],
        ),
    ]


def test_the_day_and_places_follow_the_language():
    with translation.override("is"):
        groups = rendered(PickupTimeField(slots=[slot(22, 10, booked=9)], zone=OSLO))
    (day, [(_value, label, _selected)]), *_ = groups
    assert day.lower().startswith("sunnudag")
    assert label == "10:00–10:30 (1 pláss eftir)"


def test_labels_are_escaped_by_the_template():
    # given a group label with markup characters (a translation could have them)
    choices = pickup_time_choices([slot(22, 10)], zone=OSLO)

    class TimeForm(forms.Form):
        time = forms.ChoiceField(choices=[("<b>&", choices[0][1])], widget=PickupTimeField.widget)

    html = str(TimeForm()["time"])
    assert 'label="&lt;b&gt;&amp;"' in html and "<b>" not in html


def test_no_slots_give_no_choices():
    field = PickupTimeField(slots=[], zone=OSLO)
    assert field.choices == [] and not field.groups


class Elements(HTMLParser):
    """Every start tag with its attributes, end tag and non-blank text, in order."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def handle_starttag(self, tag, attrs):
        self.seen.append(("start", tag, sorted(attrs)))

    def handle_endtag(self, tag):
        self.seen.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.seen.append(("text", data.strip()))


def elements(html):
    parser = Elements()
    parser.feed(html)
    return parser.seen


def test_the_picker_writes_what_djangos_select_writes():
    # given grouped times (one nearly full), a chosen one, attributes a page gives, and a label
    # with markup characters
    slots = [slot(21, 23), slot(22, 0, 30), slot(22, 10, 30, booked=8)]
    field = PickupTimeField(slots=slots, zone=OSLO)
    groups = pickup_time_choices(slots, zone=OSLO)
    groups[0] = ('<b>&"', groups[0][1])
    field.widget.groups = groups
    attrs = {"id": "slot-1", "data-testid": "slot-select", "aria-describedby": "slot-help-1", "required": True}

    # when both widgets render it
    ours = field.widget.render("slot-1", slots[2].key, attrs=attrs)
    djangos = forms.Select(choices=groups).render("slot-1", slots[2].key, attrs=attrs)

    # then the same elements, attributes (escaped alike) and text
    assert elements(ours) == elements(djangos)
    assert ours.count("<option") == 3 and " selected" in ours and "<b>" not in ours
