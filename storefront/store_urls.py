from django.urls import path

from . import store_views as views

app_name = "stores"

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("choose/", views.choose_store, name="choose_store"),
    path("<slug:slug>/", views.store_detail, name="store_detail"),
]
