from django.urls import path

from mediahub.people import views

app_name = "people"
urlpatterns = [
    path("people/", views.people_list, name="list"),
    path("people/<int:pk>/", views.person_detail, name="detail"),
    path("faces/<int:pk>.jpg", views.face_chip, name="face_chip"),
]
