from django.urls import path

from . import views

app_name = "rewards"

urlpatterns = [
    path("", views.member, name="member"),
    path("join/", views.join, name="join"),
    path("join/phone/", views.join_phone, name="join_phone"),
    path("join/<str:token>/", views.join_confirm, name="join_confirm"),
    path("forget/", views.leave_session, name="forget"),
]
