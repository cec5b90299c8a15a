from django.urls import path

from mediahub.people import views

app_name = "people"
urlpatterns = [
    path("people/", views.people_list, name="list"),
    path("people/<int:pk>/", views.person_detail, name="detail"),
    path("people/<int:pk>/rename", views.rename, name="rename"),
    path("people/<int:pk>/hide", views.hide, name="hide"),
    path("people/<int:pk>/merge", views.merge, name="merge"),
    path("people/<int:pk>/unmerge/<int:other>", views.unmerge, name="unmerge"),
    path("people/<int:pk>/delete", views.delete, name="delete"),
    path("face-tracks/<int:pk>/split", views.track_split, name="track_split"),
    path("face-tracks/<int:pk>/reject", views.track_reject, name="track_reject"),
    path("faces/<int:pk>.jpg", views.face_chip, name="face_chip"),
]
