from django.urls import path

from . import views

app_name = "backoffice"

urlpatterns = [
    # Beside pickup's queue (pickup/queue/), whose rows post here.
    path("pickup/queue/<str:number>/hand-over/", views.curb_hand_over, name="curb_hand_over"),
]
