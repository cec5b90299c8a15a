from django.urls import path

from mediahub.assets import views

app_name = "assets"
urlpatterns = [
    path("", views.library, name="library"),
    path("upload/", views.upload, name="upload"),
    path("settings/rights/", views.rights_policy, name="rights-policy"),
    path("assets/bulk-edit", views.bulk_edit, name="bulk-edit"),
    path("assets/<int:pk>/", views.detail, name="detail"),
    path("assets/<int:pk>/edit", views.edit, name="edit"),
    path("assets/<int:pk>/reprocess", views.reprocess, name="reprocess"),
    path("assets/<int:pk>/delete", views.delete, name="delete"),
    path("assets/<int:pk>/media", views.media, name="media"),
    path("assets/<int:pk>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
    path("assets/<int:pk>/frames/<int:index>.jpg", views.frame_image, name="frame"),
]
