"""A form field's label, help text, errors and <input>, written in Python as Django's templates
write them (django/forms/field.html, label.html, errors/list/ul.html, widgets/input.html).

`{{ form.name.as_field_group }}` renders five small templates a field, ~0.4 ms: a checkout page
has six such fields, and a sold-out refusal (a flash sale's hundreds a second) shows them all
again. A form sets `bound_field_class = QuickBoundField`; fields with a plain <input> (text,
e-mail, telephone, number) are then written here, byte for byte as the templates write them
(o2o_site/tests/test_field_groups.py compares them, with values, errors, help texts and in
every language); any other field, or a form with templates of its own, is left to Django.
"""

from django.forms import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Input
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

# The templates whose output is written here: a form or widget using others is left to them.
FIELD_TEMPLATE = "django/forms/field.html"
LABEL_TEMPLATE = "django/forms/label.html"
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in ("input", "text", "email", "number", "tel", "url", "search")
)


class QuickBoundField(BoundField):
    def as_field_group(self):
        if not self._written_here():
            return super().as_field_group()
        parts = ["\n  "]
        if self.label:
            parts.append(self._label_html())
        parts.append("\n\n")
        if self.help_text:
            helptext_id = f' id="{conditional_escape(self.auto_id)}_helptext"' if self.auto_id else ""
            parts.append(f'<div class="helptext"{helptext_id}>{self.help_text}</div>')
        parts.extend(["\n", _errors_html(self.errors), "\n", self._input_html(), "\n"])
        # Stripped, as Django's form renderer strips what each template renders.
        return mark_safe("".join(parts).strip())  # every value escaped above, as the templates escape them

    def _written_here(self):
        form, widget = self.form, self.field.widget
        return (
            isinstance(widget, Input)
            and widget.template_name in INPUT_TEMPLATES
            and not self.use_fieldset
            and not self.field.localize
            and self.template_name == FIELD_TEMPLATE
            and form.template_name_label == LABEL_TEMPLATE
            and type(form.renderer) is DjangoTemplates
        )

    def _label_html(self):
        """BoundField.label_tag(), as django/forms/label.html writes it."""
        contents = self.label
        suffix = self.field.label_suffix if self.field.label_suffix is not None else self.form.label_suffix
        if suffix and contents and contents[-1] not in gettext(":?.!"):
            contents = format_html("{}{}", contents, suffix)
        widget = self.field.widget
        id_ = widget.attrs.get("id") or self.auto_id
        if not id_:
            return conditional_escape(contents).strip()
        attrs = {}
        if id_for_label := widget.id_for_label(id_):
            attrs["for"] = id_for_label
        if self.field.required and hasattr(self.form, "required_css_class"):
            attrs["class"] = self.form.required_css_class
        return f"<label{_attrs_html(attrs)}>{conditional_escape(contents)}</label>"

    def _input_html(self):
        """BoundField.as_widget() for an <input>, as django/forms/widgets/input.html writes it."""
        widget = self.field.widget
        attrs = self.build_widget_attrs({}, widget)
        if self.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", self.auto_id)
        context = widget.get_context(self.html_name, self.value(), attrs)["widget"]
        value = context["value"]
        shown = "" if value is None else f' value="{_text(value)}"'
        return (
            f'<input type="{conditional_escape(context["type"])}" name="{conditional_escape(context["name"])}"'
            f"{shown}{_attrs_html(context['attrs'])}>"
        )


def _text(value):
    """{{ value|stringformat:'s' }}: the value as text, escaped unless it is safe already."""
    return conditional_escape(value if isinstance(value, str) else f"{value}")


def _attrs_html(attrs):
    """django/forms/attrs.html: each attribute in its order, True ones bare, False ones left out."""
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _errors_html(errors):
    """{{ field.errors }}: django/forms/errors/list/ul.html."""
    if not errors:
        return ""
    field_id = f' id="{conditional_escape(errors.field_id)}_error"' if errors.field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{conditional_escape(errors.error_class)}"{field_id}>{items}</ul>'
