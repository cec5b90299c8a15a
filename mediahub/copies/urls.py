from django.urls import path

from mediahub.copies import views

app_name = "copies"
urlpatterns = [
    path("copies/check/", views.check, name="check"),
]
