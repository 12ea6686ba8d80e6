from django.urls import path

from . import views

app_name = "pickup"

urlpatterns = [
    path("check-in/<str:number>/<str:signature>/", views.check_in, name="check_in"),
]
