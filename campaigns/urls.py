from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("account/offers/", views.account_offers, name="account_offers"),
    path("email/confirm/<str:token>/", views.confirm, name="confirm"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe_link, name="unsubscribe"),
    path("email/offer/<str:token>/", views.open_link, name="open"),
]
