from django.urls import path

from . import instore_views as views

app_name = "instore"

urlpatterns = [
    path("leave/", views.leave, name="leave"),
    path("<str:token>/", views.open_link, name="open"),
]
