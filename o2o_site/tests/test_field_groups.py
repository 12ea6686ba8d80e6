"""QuickBoundField writes a field as Django's templates write it (o2o_site/field_groups.py)."""

import pytest
from django import forms
from django.forms import BoundField
from django.utils import translation

from checkout.forms import CheckoutForm
from o2o_site.field_groups import QuickBoundField


class EveryKindForm(forms.Form):
    bound_field_class = QuickBoundField
    required_css_class = "required"

    name = forms.CharField(label="Name", max_length=20, help_text="As on your card <b>exactly</b>")
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "data-x": 'a"b'}))
    count = forms.IntegerField(label="How many?", min_value=1, required=False)
    note = forms.CharField(label="", required=False, widget=forms.TextInput(attrs={"disabled": True, "hidden": False}))
    own_id = forms.CharField(required=False, widget=forms.TextInput(attrs={"id": "mine"}), label_suffix=" →")
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    agree = forms.BooleanField(required=False, help_text="Tick it")
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


FORMS = [
    lambda cls: cls(),
    lambda cls: cls(initial={"name": "Anna <Jóns>", "count": 3}),
    lambda cls: cls({"name": "x" * 30, "email": "not an e-mail", "count": "0", "own_id": "<i>"}),
    lambda cls: cls({"name": "Anna", "email": "anna@example.com", "count": "2", "agree": "on"}),
    lambda cls: cls({"name": "Anna"}, auto_id=False),
    lambda cls: cls({"name": ""}, auto_id="field-%s", label_suffix=""),
    lambda cls: cls(prefix="p"),
]


@pytest.mark.parametrize("language", ["en", "is", "nb"])
@pytest.mark.parametrize("make", FORMS)
@pytest.mark.parametrize("form_class", [EveryKindForm, CheckoutForm])
def test_every_field_is_as_djangos_templates_write_it(form_class, make, language, db):
    with translation.override(language):
        form = make(form_class)
        form.is_valid()
        for name in form.fields:
            field = form[name]
            assert isinstance(field, QuickBoundField)
            assert field.as_field_group() == BoundField.as_field_group(field), name
            assert str(field) == BoundField.__str__(field)


def test_an_input_is_written_here_and_other_widgets_are_left_to_django():
    form = EveryKindForm()
    written = [name for name in form.fields if form[name]._written_here()]
    assert written == ["name", "email", "count", "note", "own_id"]
