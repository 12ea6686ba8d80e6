from django.urls import path

from . import views

app_name = "backoffice"

# The curbside queue's former addresses (it lives in the admin now: admin/orders/order/curbside/).
urlpatterns = [
    path("pickup/queue/", views.old_curbside_queue, name="old_curbside_queue"),
    path("pickup/queue/rows/", views.old_curbside_queue_rows, name="old_curbside_queue_rows"),
    path("pickup/queue/<str:number>/hand-over/", views.old_curb_hand_over, name="old_curb_hand_over"),
]
