"""An editor names a person on the People page, opens them, and plays an appearance from its start."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from mediahub.people.models import FaceTrack, Person
from mediahub.people.services import faces_replace
from tests.browser.test_upload_flow import sign_in
from tests.conftest import GREEN_SQUARE, RED_CIRCLE
from tests.library import ingest
from tests.people.embeddings import identity
from tests.people.factories import track_result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tag_vocabulary")]


def test_name_a_person_and_play_their_appearance(page, live_server, owner, make_video):
    rng = np.random.default_rng(2)
    face = identity(rng)
    assets = [ingest(make_video(scenes, name=f"{number}.mp4"), f"Briefing {number}")
              for number, scenes in enumerate([(RED_CIRCLE, GREEN_SQUARE), (GREEN_SQUARE, RED_CIRCLE)])]
    for asset in assets:
        faces_replace(asset=asset, tracks=[track_result(face, rng, start=3, seconds=2)])
    person = Person.objects.get(pk=FaceTrack.objects.get(asset=assets[0]).person_id)

    sign_in(page, live_server, owner)
    page.get_by_role("link", name="People").click()
    card = page.locator(f'[data-person-id="{person.pk}"]')
    expect(card).to_contain_text("4 faces")
    card.get_by_label(f"Name of person {person.pk}").fill("Wang Wei")
    card.get_by_role("button", name="Save").click()
    expect(page.locator(f'[data-person-id="{person.pk}"] .title')).to_have_text("Wang Wei")

    page.locator(f'[data-person-id="{person.pk}"] a').first.click()
    expect(page.get_by_role("heading", name="Wang Wei")).to_be_visible()
    page.get_by_role("link", name="Briefing 1").click()
    expect(page).to_have_url(re.compile(rf"/assets/{assets[1].pk}/\?t=3\.0&end=[\d.]+$"))  # the appearance, to its end
    expect(page.locator(".moment-selected")).to_contain_text("Selected moment: 0:03–")
    page.wait_for_function("() => { const v = document.getElementById('player'); return v && v.readyState >= 1 && Math.abs(v.currentTime - 3) < 0.1; }")
