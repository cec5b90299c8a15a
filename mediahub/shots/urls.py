from django.urls import path

from mediahub.shots import views

app_name = "shots"
urlpatterns = [
    path("assets/<int:pk>/shotlist.txt", views.shot_list, {"extension": "txt"}, name="list-txt"),
    path("assets/<int:pk>/shotlist.csv", views.shot_list, {"extension": "csv"}, name="list-csv"),
    path("assets/<int:pk>/shots/<int:index>/edit", views.shot_edit, name="edit"),
]
