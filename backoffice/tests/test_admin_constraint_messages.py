"""Every database CheckConstraint that an admin form can break says what is wrong in words.

A ModelForm checks a model's CheckConstraints whose fields are all on the form; without a
violation_error_message the page shows Django's "Constraint “opening_hours_closes_after_opens” is
violated.", the database's name for it. This sweeps every registered admin and its inlines.
"""

import pytest
from django.contrib import admin
from django.db.models import CheckConstraint
from django.test import RequestFactory

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def editable_forms(request):
    """(model, form field names) of every admin's form and every inline's, as a superuser sees them."""
    for model, model_admin in admin.site._registry.items():
        yield model, set(model_admin.get_form(request, obj=None, change=False).base_fields)
        for inline in model_admin.get_inline_instances(request):
            yield inline.model, set(inline.get_formset(request).form.base_fields)


def test_every_check_constraint_a_form_can_hit_has_a_message():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)

    unexplained = set()
    for model, fields in editable_forms(request):
        for constraint in model._meta.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            referenced = constraint.condition.referenced_base_fields
            if (
                referenced
                and referenced <= fields | {"pk"}
                and constraint.violation_error_message == constraint.default_violation_error_message
            ):
                unexplained.add(f"{model._meta.label}: {constraint.name}")

    assert sorted(unexplained) == [], "\n".join(sorted(unexplained))
