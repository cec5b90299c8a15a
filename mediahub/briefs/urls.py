from django.urls import path

from mediahub.briefs import views

app_name = "briefs"
urlpatterns = [
    path("briefs/", views.brief_list, name="list"),
    path("briefs/<int:pk>/", views.brief_board, name="board"),
]
