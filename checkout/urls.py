from django.urls import path

from . import delivery_views, split_views, transfer_views, views

app_name = "checkout"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/delivery/", delivery_views.delivery_checkout, name="delivery"),
    path("checkout/send-to-store/", transfer_views.transfer_checkout, name="transfer"),
    path("checkout/split/", split_views.split_checkout, name="split"),
    path("orders/<str:token>/", views.order_detail, name="order_detail"),
    path("orders/<str:token>/collector/", views.order_collector, name="order_collector"),
    path("orders/<str:token>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<str:token>/pay/", views.order_pay, name="order_pay"),
]
