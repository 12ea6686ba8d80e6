from django.urls import path

from . import views

app_name = "returns"

urlpatterns = [
    path("orders/<str:token>/returns/new/", views.start_return, name="start"),
    path("orders/<str:token>/returns/<str:code>/", views.return_detail, name="detail"),
    path("orders/<str:token>/returns/<str:code>/receipt/", views.return_receipt, name="receipt"),
]
