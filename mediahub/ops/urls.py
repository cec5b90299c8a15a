from django.urls import path

from mediahub.ops import metrics, views

app_name = "ops"
urlpatterns = [
    path("ops/", views.operations, name="operations"),
    path("ops/failed/retry", views.failed_retry, name="failed-retry"),
    path("metrics", metrics.metrics, name="metrics"),
]
