from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from django.views import defaults
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer

from mediahub.assets import api as assets_api
from mediahub.briefs import api as briefs_api
from mediahub.copies import api as copies_api
from mediahub.core import api as core_api
from mediahub.core import docs
from mediahub.core import views as core_views
from mediahub.people import api as people_api
from mediahub.search import api as search_api
from mediahub.search import views as search_views
from mediahub.shots import api as shots_api

api_urlpatterns = [
    path("health", login_not_required(core_api.health), name="health"),
    path("schema", SpectacularAPIView.as_view(renderer_classes=[JSONRenderer, OpenApiJsonRenderer, OpenApiYamlRenderer]),
         name="schema"),
    path("docs/", docs.ApiDocsPage.as_view(), name="docs"),
    path("redoc/", docs.ApiRedocPage.as_view(), name="redoc"),
    path("assets", assets_api.AssetListApi.as_view(), name="assets"),
    path("assets/<int:pk>", assets_api.AssetDetailApi.as_view(), name="asset"),
    path("assets/<int:pk>/history", assets_api.AssetHistoryApi.as_view(), name="asset-history"),
    path("assets/<int:pk>/reprocess", assets_api.AssetReprocessApi.as_view(), name="asset-reprocess"),
    path("assets/<int:pk>/similar", search_api.MoreLikeThisApi.as_view(), name="asset-similar"),
    path("assets/<int:pk>/faces", people_api.AssetFacesApi.as_view(), name="asset-faces"),
    path("assets/<int:pk>/copies", copies_api.AssetCopiesApi.as_view(), name="asset-copies"),
    path("assets/<int:pk>/shots", shots_api.AssetShotsApi.as_view(), name="asset-shots"),
    path("assets/<int:pk>/shots/<int:index>", shots_api.ShotDetailApi.as_view(), name="asset-shot"),
    path("copies/check", copies_api.CopyCheckApi.as_view(), name="copies-check"),
    path("people", people_api.PeopleListApi.as_view(), name="people"),
    path("people/<int:pk>", people_api.PersonDetailApi.as_view(), name="person"),
    path("people/<int:pk>/merge", people_api.PersonMergeApi.as_view(), name="person-merge"),
    path("people/<int:pk>/unmerge", people_api.PersonUnmergeApi.as_view(), name="person-unmerge"),
    path("face-tracks/<int:pk>/split", people_api.TrackSplitApi.as_view(), name="face-track-split"),
    path("face-tracks/<int:pk>/reject", people_api.TrackRejectApi.as_view(), name="face-track-reject"),
    path("briefs", briefs_api.BriefListApi.as_view(), name="briefs"),
    path("briefs/<int:pk>", briefs_api.BriefDetailApi.as_view(), name="brief"),
    path("briefs/<int:pk>/export", briefs_api.BriefExportApi.as_view(), name="brief-export"),
    path("briefs/<int:pk>/beats/<int:index>", briefs_api.BeatApi.as_view(), name="brief-beat"),
    path("briefs/<int:pk>/beats/<int:index>/pick", briefs_api.BeatPickApi.as_view(), name="brief-beat-pick"),
    path("briefs/<int:pk>/beats/<int:index>/similar", briefs_api.BeatSimilarApi.as_view(), name="brief-beat-similar"),
    path("search", search_api.SearchApi.as_view(), name="search"),
    path("search/image", search_api.ImageSearchApi.as_view(), name="search-image"),
    path("feedback", search_api.FeedbackApi.as_view(), name="feedback"),
]

urlpatterns = [
    path("api/", include((api_urlpatterns, "api"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("language", login_not_required(set_language), name="set_language"),  # the sign-in page has the switch too
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("search/", search_views.search_page, name="search"),
    path("", include("mediahub.ops.urls")),
    path("", include("mediahub.briefs.urls")),
    path("", include("mediahub.people.urls")),
    path("", include("mediahub.copies.urls")),
    path("", include("mediahub.shots.urls")),
    path("", include("mediahub.assets.urls")),
]

handler400 = core_api.json_error_or(defaults.bad_request, 400, "The request could not be understood.")
handler403 = core_api.json_error_or(defaults.permission_denied, 403, "You do not have permission to do this.")
handler404 = core_api.json_error_or(defaults.page_not_found, 404, "There is nothing at this address; check the URL.")
handler500 = core_api.json_error_or(core_views.server_error, 500, "Something went wrong on the server; try again later.")
