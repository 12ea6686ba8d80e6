from django.urls import path

from . import instore_views, views

app_name = "backoffice"

# The curbside queue's former addresses (it lives in the admin now: admin/orders/order/curbside/).
urlpatterns = [
    path("pickup/queue/", views.old_curbside_queue, name="old_curbside_queue"),
    path("pickup/queue/rows/", views.old_curbside_queue_rows, name="old_curbside_queue_rows"),
    path("pickup/queue/<str:number>/hand-over/", views.old_curb_hand_over, name="old_curb_hand_over"),
    # In-store selling (backoffice.instore_views): links, signs, shelf labels, scans, assisted selling.
    path("staff/in-store/", instore_views.in_store_index, name="in_store"),
    path("staff/in-store/stop-selling/", instore_views.stop_selling, name="in_store_stop"),
    path("staff/in-store/<slug:slug>/sign/", instore_views.store_sign, name="in_store_sign"),
    path("staff/in-store/<slug:slug>/labels/", instore_views.shelf_label_sheet, name="in_store_labels"),
    path("staff/in-store/<slug:slug>/scans/", instore_views.store_scans, name="in_store_scans"),
    path("staff/in-store/<slug:slug>/sell/", instore_views.start_selling, name="in_store_sell"),
]
