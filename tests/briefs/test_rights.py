"""Briefs and newsroom rights: brief results say when footage is under embargo or marked do not use,
its exports carry the warning, the brief filters take source/rights/embargo like search, and a viewer
never sees footage the rights policy hides from them, even on an editor's brief."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import opentimelineio as otio
import pytest
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.assets.services import rights_policy_update
from tests.briefs.test_brief_api import make_brief
from tests.briefs.test_timeline import edl_comments, items

pytestmark = pytest.mark.django_db

BEAT = "a red circle on a blue background"  # found in the harbour video (library.py)


@pytest.fixture
def embargoed_harbour(library) -> Asset:
    harbour = library.assets["harbour.mp4"]
    Asset.objects.filter(pk=harbour.pk).update(embargo_until=timezone.now() + timedelta(days=2),
                                               rights_status="do_not_use", rights_note="pool footage")
    harbour.refresh_from_db()
    return harbour


def test_brief_results_carry_the_usage_warning(editor_api, embargoed_harbour):
    beat = make_brief(editor_api, BEAT)["beats"][0]
    assert beat["choice"]["asset_id"] == embargoed_harbour.pk
    assert beat["choice"]["usage_warning"] == embargoed_harbour.usage_warning()
    assert beat["choice"]["usage_warning"].endswith("Do not use: pool footage")
    assert all(r["usage_warning"] is None for r in beat["results"] if r["asset_id"] != embargoed_harbour.pk)


@pytest.mark.parametrize("unusable", ["harbour.mp4", "council.mp4"])
def test_the_board_proposes_footage_that_may_be_used_when_it_matches_as_well(editor_api, library, unusable):
    # Both have a red circle (on blue, on green): whichever may not be published, the other is proposed.
    Asset.objects.filter(pk=library.assets[unusable].pk).update(rights_status="do_not_use")
    beat = make_brief(editor_api, "a red circle")["beats"][0]
    usable = ({"harbour.mp4", "council.mp4"} - {unusable}).pop()
    assert beat["choice"]["asset_id"] == library.assets[usable].pk and beat["choice"]["usage_warning"] is None
    assert library.assets[unusable].pk in {r["asset_id"] for r in beat["results"]}  # still there to pick


def test_every_export_marks_the_clip_of_restricted_footage(editor_api, embargoed_harbour):
    brief = make_brief(editor_api, f"{BEAT}\na white cross on a black background")
    warning = embargoed_harbour.usage_warning()

    def export(fmt):
        response = editor_api.get(f"/api/briefs/{brief['id']}/export", {"format": fmt})
        assert response.status_code == 200
        return response.content.decode("utf-8")

    (first, second) = items(otio.adapters.read_from_string(export("otio"), adapter_name="otio_json"))
    assert first.metadata["mediahub"]["usage_warning"] == warning and warning in first.markers[0].comment
    assert second.metadata["mediahub"]["usage_warning"] is None and "USAGE" not in second.markers[0].comment
    (first, _) = items(otio.adapters.read_from_string(export("edl"), adapter_name="cmx_3600", rate=25))
    assert f"USAGE: {warning}" in edl_comments(first)
    fcp7 = export("fcpxml")
    assert f"<mastercomment2>USAGE: {warning}</mastercomment2>" in fcp7 and fcp7.count("USAGE:") == 2  # clip + marker
    rows = list(csv.DictReader(io.StringIO(export("csv").lstrip("\ufeff"))))
    assert [row["usage"] for row in rows] == [warning, ""]


def test_brief_filters_take_the_metadata_filters(editor_api, embargoed_harbour):
    body = make_brief(editor_api, BEAT, filters={"embargoed": False, "rights": "unset"})
    assert body["filters"] == {"embargoed": False, "rights": "unset"}
    assert embargoed_harbour.pk not in {r["asset_id"] for r in body["beats"][0]["results"]}
    response = editor_api.post("/api/briefs", {"text": BEAT, "filters": {"embargoed": "soon"}}, format="json")
    assert response.status_code == 400 and response.json()["detail"] == "embargoed must be true or false, not 'soon'."


def test_a_viewer_never_sees_hidden_footage_in_briefs_editors_do(editor_api, viewer_api, client, viewer, editor,
                                                                 embargoed_harbour):
    rights_policy_update(user=None, viewers_see_embargoed=False, viewers_see_do_not_use=True)
    editors = make_brief(editor_api, BEAT)  # searched by an editor: the harbour is its best result
    assert editors["beats"][0]["choice"]["asset_id"] == embargoed_harbour.pk
    seen = viewer_api.get(f"/api/briefs/{editors['id']}").json()["beats"][0]
    assert embargoed_harbour.pk not in {r["asset_id"] for r in seen["results"]}
    assert seen["choice"]["asset_id"] != embargoed_harbour.pk
    exported = viewer_api.get(f"/api/briefs/{editors['id']}/export", {"format": "csv"}).content.decode()
    assert str(embargoed_harbour.original_filename) not in exported
    board = f"/briefs/{editors['id']}/"
    client.force_login(editor)
    assert f'data-asset-id="{embargoed_harbour.pk}"' in client.get(board).content.decode()
    client.force_login(viewer)
    assert f'data-asset-id="{embargoed_harbour.pk}"' not in client.get(board).content.decode()
    viewers = make_brief(viewer_api, BEAT)  # searched by a viewer: never found at all
    assert embargoed_harbour.pk not in {r["asset_id"] for r in viewers["beats"][0]["results"]}


def test_the_board_sets_and_shows_the_metadata_filters(client, editor, embargoed_harbour):
    from mediahub.briefs.services import brief_create

    brief = brief_create(owner=editor, text=BEAT)
    client.force_login(editor)
    client.post(f"/briefs/{brief.pk}/filters", {"source": "AP", "rights": "unset", "embargoed": "false"})
    brief.refresh_from_db()
    assert brief.filters == {"source": "AP", "rights": "unset", "embargoed": False}
    page = client.get(f"/briefs/{brief.pk}/").content.decode()
    assert "source AP, rights not checked, embargo not under embargo" in page
    assert '<option value="false" selected>' in page and '<option value="unset" selected>' in page
