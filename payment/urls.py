"""Mounted at /payments/ without a namespace: django-payments reverses "process_payment" itself
(a payment's return URL)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("<uuid:token>/", views.pay, name="payment_page"),
    path("process/<uuid:token>/", views.process_payment, name="process_payment"),
    re_path(r"^process/(?P<variant>[a-z-]+)/$", views.static_process_payment, name="static_process_payment"),
    path("receipts/<str:token>/<int:number>/", views.receipt, name="payment_receipt"),
]
