from django.urls import path

from . import views

app_name = "pickup"

urlpatterns = [
    path("check-in/<str:number>/<str:signature>/", views.check_in, name="check_in"),
    path("queue/", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
]
