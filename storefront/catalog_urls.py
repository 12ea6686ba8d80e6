from django.urls import path

from . import catalog_views as views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("api/products/<str:sku>/availability.json", views.product_availability_json, name="availability_json"),
]
