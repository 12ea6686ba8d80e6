"""The listing's filters a shopper ticks: the variant attributes (size M, colour grey)."""

from django import forms

from catalog.models import VariantAttributeValue
from catalog.selectors import AttributeChoices


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
