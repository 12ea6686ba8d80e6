"""The listing's controls: its order and price range (ListingForm), and the variant attributes
a shopper ticks (size M, colour grey)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import VariantAttributeValue
from catalog.selectors import AttributeChoices, ListingSort

PRICE_ERRORS = {
    "invalid": _("Enter a price as a number, such as 5000."),
    "min_value": _("Enter a price of %(limit_value)s or more."),
    "max_digits": _("Enter a smaller price."),
    "max_whole_digits": _("Enter a smaller price."),
    "max_decimal_places": _("Enter a price with at most %(max)s decimals."),
}


def _price_field(label):
    # As Product.price: up to 12 digits, 2 of them decimals.
    return forms.DecimalField(
        label=label, min_value=0, max_digits=12, decimal_places=2, required=False, error_messages=PRICE_ERRORS
    )


class ListingForm(forms.Form):
    """How the list is ordered (?sort=) and the price range (?min_price=&max_price=).

    A price that cannot be read, or a range upside down, is shown back with what was typed and
    what is wrong, and that bound is left out, so the shopper still sees products. An unknown
    order is the default one (an old bookmark): relevance for a search, else name.
    """

    sort = forms.ChoiceField(label=_("Sort by"), choices=ListingSort.choices, required=False)
    min_price = forms.DecimalField(
        label=_("Lowest price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages=PRICE_ERRORS,
    )
    max_price = forms.DecimalField(
        label=_("Highest price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages=PRICE_ERRORS,
    )

    def __init__(self, data, *, searching: bool):
        super().__init__(data)
        self.searching = searching
        if not searching:  # relevance means nothing without a search
            self.fields["sort"].choices = [
                choice for choice in ListingSort.choices if choice[0] != ListingSort.RELEVANCE
            ]

    def full_clean(self):
        # An unknown order is no error worth a message: the default order is shown.
        if self.data.get("sort") not in dict(self.fields["sort"].choices):
            self.data = self.data.copy()
            self.data["sort"] = ""
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The highest price must be at least the lowest."))
        return cleaned

    @property
    def sort_order(self) -> ListingSort:
        self.is_valid()
        if chosen := self.cleaned_data.get("sort"):
            return ListingSort(chosen)
        return ListingSort.RELEVANCE if self.searching else ListingSort.NAME

    def price(self, name: str) -> Decimal | None:
        """A bound of the range, None when empty or not valid."""
        self.is_valid()
        return None if name in self.errors else self.cleaned_data.get(name)


class VariantFilterForm(forms.Form):
    """One group of checkboxes per variant attribute, named by its slug (?size=m&size=l): the
    products with a variant in one of the ticked values of each attribute. A value the catalog no
    longer has is left out, not an error: the address may be an old bookmark."""

    def __init__(self, data, *, choices: list[AttributeChoices]):
        super().__init__(data)
        self._values = {}
        for group in choices:
            slug = group.attribute.slug
            self._values[slug] = {value.slug: value for value in group.values}
            self.fields[slug] = forms.MultipleChoiceField(
                label=group.attribute.name,
                choices=[(value.slug, value.value) for value in group.values],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )

    def full_clean(self):
        # Unknown values are dropped before validating, so the rest still filter.
        data = self.data.copy()
        for slug, values in self._values.items():
            data.setlist(slug, [value for value in self.data.getlist(slug) if value in values])
        self.data = data
        super().full_clean()

    def chosen_values(self) -> list[VariantAttributeValue]:
        if not self.is_valid():
            return []
        return [self._values[slug][value] for slug in self._values for value in self.cleaned_data.get(slug, [])]
