"""Times as every page shows them (the `moments` template tags): m:ss, h:mm:ss past an hour, tenths only
where a range's ends would otherwise read the same, and no time at all for a still image."""

import pytest
from django.template import Context, Template

from mediahub.assets.models import Asset
from mediahub.core.templatetags.moments import clock, moment_label, moment_time, moment_url, time_range


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0:00"), (0.99, "0:00"), (4.5, "0:04"), (59.96, "0:59"), (60, "1:00"), (61, "1:01"), (600, "10:00"),
    (3599.96, "59:59"), (3600, "1:00:00"), (3725.2, "1:02:05"), (36000, "10:00:00"),
    ("12.5", "0:12"), (None, ""), ("", ""), ("soon", ""), (float("nan"), ""), (-1, ""),
])
def test_a_time_reads_as_minutes_and_seconds_as_a_player_counts_them(seconds, shown):
    assert clock(seconds) == shown


@pytest.mark.parametrize(("start", "end", "shown"), [
    (5, 10, "0:05–0:10"),
    (0, 59.96, "0:00–0:59"),
    (0.3, 1.3, "0:00–0:01"),
    (3590, 3600, "59:50–1:00:00"),
    (5.2, 5.6, "0:05.2–0:05.6"),  # under a second: whole seconds would read "0:05–0:06", like 5.4–6.3
    (5.4, 6.3, "0:05.4–0:06.3"),
    (5.4, 6.4, "0:05–0:06"),
    (59.96, 60.3, "0:59.9–1:00.3"),
    (0.3, 0.7, "0:00.3–0:00.7"),  # tenths read exactly where binary floats fall just short
    (7, 7, "0:07"),  # an instant
    (None, 3, ""),
])
def test_a_range_reads_as_two_times_with_tenths_only_where_they_would_meet(start, end, shown):
    assert time_range(start, end) == shown


def test_a_still_image_has_no_time():
    assert moment_time(0, 0, "image") == "Still image"
    assert moment_time(0, 0, "video") == "0:00"
    assert moment_label("Flood day one", 5, 10) == "Flood day one · 0:05–0:10"


def test_a_moment_links_to_its_asset_page_playing_it_and_a_still_to_its_page():
    video, image = Asset(pk=7, kind=Asset.Kind.VIDEO), Asset(pk=8, kind=Asset.Kind.IMAGE)
    assert moment_url(video, 5, 10.5) == "/assets/7/?t=5.0&end=10.5"
    assert moment_url(image, 0, 0) == "/assets/8/"


def test_templates_escape_what_the_tags_give_back():
    rendered = Template('{% load moments %}<b title="{% moment_label title 5 10 %}">{% moment_url asset 1 2 %}</b>').render(
        Context({"title": '<i>"Flood"</i>', "asset": Asset(pk=3, kind=Asset.Kind.VIDEO)}))
    assert rendered == '<b title="&lt;i&gt;&quot;Flood&quot;&lt;/i&gt; · 0:05–0:10">/assets/3/?t=1.0&amp;end=2.0</b>'
