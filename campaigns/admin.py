"""Consent and campaigns in the admin.

- E-mail consents: the ledger of who may be e-mailed, where and how they agreed. Store staff
  record a consent given in their store ("Add"): e-mail, store (one of theirs), language; the
  shopper gets the confirmation e-mail. Managers see the consents given in their stores only.
- Campaigns: audience, message in three languages, rate; "Send" queues it; the list and the page
  show sent, failed, opened the link and redeemed. Head office (campaigns.any_audience, and
  superusers) sends to any audience. A store manager sees and writes only campaigns to the
  shoppers near one of their stores, within a radius that reaches no other manager's store, with
  a coupon of their own stores (coupons' CouponQuerySet.for_stores_managed_by).
"""

import math

from django import forms
from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from coupons.models import Coupon
from stores.admin_scoping import StoreScopedAdminMixin, managed_store_ids, managed_stores

from .audience import audience_of, nearest_other_store
from .models import Audience, Campaign, ConsentEvent, ConsentSource, EmailConsent
from .selectors import figures_of, with_figures
from .services import (
    CampaignError,
    ConsentError,
    cancel_campaign,
    coupon_refusal,
    normalise_email,
    queue_campaign,
    subscribe,
)


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_state", "to_state", "level", "source", "store", "recorded_by", "campaign")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "recorded_by", "campaign")


class InStoreConsentForm(forms.ModelForm):
    """What staff fill in when a shopper subscribes at the till."""

    class Meta:
        model = EmailConsent
        fields = ("email", "store", "language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].required = True

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def validate_unique(self):
        # Subscribing an address already on file is the service's decision, not a form error.
        pass


@admin.register(EmailConsent)
class EmailConsentAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_path = "store"
    list_display = ("email", "state", "level", "source", "store", "updated_at")
    list_filter = ("state", "level", "source")
    list_select_related = ("store",)
    search_fields = ("email",)
    inlines = [ConsentEventInline]
    readonly_fields = (
        "email",
        "user",
        "state",
        "level",
        "source",
        "store",
        "language",
        "updated_at",
        "confirmation_sent_at",
    )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InStoreConsentForm
            kwargs["fields"] = InStoreConsentForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            consent = subscribe(
                email=form.cleaned_data["email"],
                source=ConsentSource.STORE,
                store=form.cleaned_data["store"],
                language=form.cleaned_data["language"],
                recorded_by=request.user,
            )
        except ConsentError as error:
            raise forms.ValidationError(str(error)) from error
        obj.pk = consent.pk

    def has_change_permission(self, request, obj=None):
        return False  # consent changes only by the shopper's own hand (links, account page) or a new record

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger is the proof of consent


class OfferedCouponField(forms.ModelChoiceField):
    """The campaign's coupon: the list offers only coupons not over yet (never an expired or
    switched-off one, whose codes the checkout would refuse), while any of the user's coupons is
    still accepted from a post, so the form can say why it does not fit (CampaignForm.clean)."""

    def __init__(self, *args, offered, **kwargs):
        self.offered = offered
        super().__init__(*args, **kwargs)

    def _get_choices(self):
        choices = super()._get_choices()
        choices.queryset = self.offered
        return choices

    choices = property(_get_choices, forms.ModelChoiceField.choices.fset)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = (
            "name",
            "audience",
            "store",
            "radius_km",
            "category",
            "coupon",
            "subject_en",
            "body_en",
            "subject_is",
            "body_is",
            "subject_nb",
            "body_nb",
            "rate_per_minute",
        )

    # A store manager's stores (CampaignAdmin.get_form); None for head office.
    own_store_ids: set[int] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.own_store_ids is not None and "audience" in self.fields:
            self.fields["audience"].choices = [(Audience.NEAR_STORE, Audience.NEAR_STORE.label)]

    def clean(self):
        data = super().clean()
        if self.own_store_ids is not None:
            self._keep_to_own_stores(data)
        if data.get("audience") == "near_store" and not data.get("store"):
            self.add_error("store", gettext("Choose the store the audience is near."))
        if data.get("audience") == "bought_in_category" and not data.get("category"):
            self.add_error("category", gettext("Choose the category the audience bought in."))
        audience_chosen = not {"audience", "store", "category"} & set(self.errors)
        if data.get("coupon") and data.get("rate_per_minute") and audience_chosen:
            # Its codes must be usable from the first e-mail to the last (coupon_refusal), counted
            # over the audience as chosen on this form.
            audience = Campaign(
                audience=data.get("audience"),
                store=data.get("store"),
                radius_km=data.get("radius_km") or 0,
                category=data.get("category"),
            )
            refusal = coupon_refusal(
                coupon=data["coupon"],
                recipients=audience_of(audience).count(),
                rate_per_minute=data["rate_per_minute"],
            )
            if refusal:
                self.add_error("coupon", refusal)
        return data

    def _keep_to_own_stores(self, data) -> None:
        """A store manager's audience: the shoppers near one of their stores, within a radius
        that reaches no store of someone else (whose shoppers are not theirs to write to)."""
        store, radius = data.get("store"), data.get("radius_km")
        if store is None or radius is None:
            return
        nearest = nearest_other_store(store, own=self.own_store_ids)
        if nearest is not None and nearest[1] <= radius:
            other, distance = nearest
            self.add_error(
                "radius_km",
                gettext(
                    "%(other)s, not one of your stores, is %(distance)s km from %(store)s: choose at most "
                    "%(most)s km, so the campaign goes to your stores' shoppers only."
                )
                % {
                    "other": other.name,
                    "distance": formats.number_format(round(distance, 1), 1),
                    "store": store.name,
                    "most": max(math.ceil(distance) - 1, 0),
                },
            )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "status", "audience", "recipients_total", "sent", "failed", "opened", "redeemed")
    list_filter = ("status", "audience")
    search_fields = ("name",)
    autocomplete_fields = ("store", "category")
    actions = ["send_campaigns", "cancel_campaigns"]
    readonly_fields = ("status", "figures", "queued_at", "finished_at")

    def get_queryset(self, request):
        campaigns = with_figures(super().get_queryset(request))
        if self.sees_every_audience(request):
            return campaigns
        return campaigns.filter(audience=Audience.NEAR_STORE, store__in=managed_stores(request).values("pk"))

    def sees_every_audience(self, request) -> bool:
        return request.user.has_perm("campaigns.any_audience")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if self.sees_every_audience(request):
            return form
        return type(form.__name__, (form,), {"own_store_ids": managed_store_ids(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "coupon":
            coupons = Coupon.objects.all()
            if not self.sees_every_audience(request):
                coupons = coupons.for_stores_managed_by(request.user)
            kwargs.update(queryset=coupons, form_class=OfferedCouponField, offered=coupons.not_over_at(timezone.now()))
        elif db_field.name == "store" and not self.sees_every_audience(request):
            kwargs["queryset"] = managed_stores(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(CampaignForm.Meta.fields)
        return [*fields, *self.readonly_fields] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != "draft":
            return (*CampaignForm.Meta.fields, *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("recipients"), ordering="recipients_total")
    def recipients_total(self, campaign):
        return campaign.recipients_total

    @admin.display(description=_("sent"), ordering="sent")
    def sent(self, campaign):
        return campaign.sent

    @admin.display(description=_("failed"), ordering="failed")
    def failed(self, campaign):
        return campaign.failed + campaign.unconfirmed

    @admin.display(description=_("opened the link"), ordering="opened")
    def opened(self, campaign):
        return campaign.opened

    @admin.display(description=_("redeemed"), ordering="redeemed")
    def redeemed(self, campaign):
        return campaign.redeemed

    @admin.display(description=_("figures"))
    def figures(self, campaign):
        figures = figures_of(campaign)
        return (
            gettext(
                "%(recipients)s recipients: %(sent)s sent, %(waiting)s waiting, %(failed)s failed, "
                "%(unconfirmed)s unconfirmed, %(skipped)s skipped (unsubscribed); %(opened)s opened the link, "
                "%(redeemed)s redeemed"
            )
            % figures.__dict__
            + " "
            + gettext("Redeemed in store: %(in_store)s; online: %(online)s.")
            % {"in_store": figures.redeemed_in_store, "online": figures.redeemed_online}
        )

    @admin.action(description=_("Send the selected campaigns"), permissions=["change"])
    def send_campaigns(self, request, queryset):
        queued = 0
        for campaign in queryset.select_related("store").order_by("pk"):
            if not self.sees_every_audience(request):
                # A store opened since the draft was saved may lie within its radius now.
                nearest = nearest_other_store(campaign.store, own=managed_store_ids(request))
                if nearest is not None and nearest[1] <= campaign.radius_km:
                    self.message_user(
                        request,
                        gettext("Campaign “%(name)s” would reach the shoppers of %(other)s: make its radius smaller.")
                        % {"name": campaign.name, "other": nearest[0].name},
                        messages.ERROR,
                    )
                    continue
            try:
                queue_campaign(campaign=campaign, by=request.user)
                queued += 1
            except CampaignError as error:
                self.message_user(request, str(error), messages.ERROR)
        if queued:
            self.message_user(
                request,
                ngettext("%(count)s campaign is being sent.", "%(count)s campaigns are being sent.", queued)
                % {"count": queued},
                messages.SUCCESS,
            )

    @admin.action(description=_("Cancel the selected campaigns"), permissions=["change"])
    def cancel_campaigns(self, request, queryset):
        for campaign in queryset.order_by("pk"):
            try:
                cancel_campaign(campaign=campaign)
            except CampaignError as error:
                self.message_user(request, str(error), messages.ERROR)
