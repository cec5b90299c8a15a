from django.urls import path

from mediahub.briefs import views

app_name = "briefs"
urlpatterns = [
    path("briefs/", views.brief_list, name="list"),
    path("briefs/<int:pk>/", views.brief_board, name="board"),
    path("briefs/<int:pk>/rename", views.brief_rename, name="rename"),
    path("briefs/<int:pk>/filters", views.brief_filter, name="filters"),
    path("briefs/<int:pk>/delete", views.brief_delete, name="delete"),
    path("briefs/<int:pk>/beats/<int:index>/text", views.beat_edit, name="beat-text"),
    path("briefs/<int:pk>/beats/<int:index>/pick", views.beat_pick, name="beat-pick"),
    path("briefs/<int:pk>/beats/<int:index>/unpick", views.beat_unpick, name="beat-unpick"),
    path("briefs/<int:pk>/beats/<int:index>/similar", views.beat_similar, name="beat-similar"),
]
