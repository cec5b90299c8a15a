"""The operations page (/ops/): admins only; queues, live workers and what they run, the last hour's
ingest, failed assets grouped by error with "Retry all", and the slowest searches."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from kombu import Connection, Exchange, Producer, Queue

from mediahub.assets.models import Asset
from mediahub.assets.services import asset_fail
from mediahub.search.models import Search
from tests.assets.test_pages import make_asset
from tests.conftest import wait_for_asset
from workers.broker import queue_depths
from workers.heartbeat import KEY_PREFIX
from workers.celery import app as celery_app

DISK_FULL = "The worker's scratch disk is full; free some space and use Reprocess."
NOT_A_VIDEO = "This file is neither a video nor an image that mediahub can read."


def page_of(client) -> BeautifulSoup:
    response = client.get("/ops/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_only_admins_open_the_operations_page_and_see_it_in_the_nav(client, db, viewer, editor, admin):
    anonymous = client.get("/ops/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/?next=/ops/")
    for user in (viewer, editor):
        client.force_login(user)
        refused = client.get("/ops/")
        assert refused.status_code == 403
        assert "Only admins can see the operations page" in refused.content.decode()
        assert client.post("/ops/failed/retry", {"error": ""}).status_code == 403
        assert 'href="/ops/"' not in client.get("/").content.decode()
    client.force_login(admin)
    assert client.get("/").content.decode().count('href="/ops/"') == 1
    assert page_of(client).h1.get_text() == "Operations"


def test_failed_assets_are_grouped_by_their_error_with_a_count_and_a_link_each(client, admin, owner):
    disk = [make_asset(owner, title=f"Disk {n}", content=bytes([n]), status="failed", error=DISK_FULL) for n in range(2)]
    other = make_asset(owner, title="Odd file", content=b"x", status="failed", error=NOT_A_VIDEO)
    make_asset(owner, title="Fine", content=b"y", status="ready")
    client.force_login(admin)
    groups = page_of(client).select(".ops-failed .failure-group")
    assert [group.select_one(".failure-error").get_text() for group in groups] == [DISK_FULL, NOT_A_VIDEO]
    assert [group.select_one(".count").get_text() for group in groups] == ["2 assets", "1 asset"]
    assert [group.select_one("input[name=error]")["value"] for group in groups] == [DISK_FULL, NOT_A_VIDEO]
    assert {a["href"] for a in groups[0].select(".failed-assets a")} == {asset.get_absolute_url() for asset in disk}
    assert [a["href"] for a in groups[1].select(".failed-assets a")] == [other.get_absolute_url()]


def test_the_slowest_searches_of_the_last_day_are_listed_with_their_query_filters_and_time(client, admin, admin_api):
    for query in ("a red circle", "green square"):
        assert admin_api.get("/api/search", {"q": query, "kind": "video"}).status_code == 200
    old = admin_api.get("/api/search", {"q": "yesterday's storm"}).json()["search_id"]
    Search.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(hours=25))
    durations = dict(Search.objects.values_list("query", "duration_ms"))
    assert all(ms > 0 for ms in durations.values())

    client.force_login(admin)
    rows = [[cell.get_text(" ", strip=True) for cell in row.select("td")]
            for row in page_of(client).select(".ops-searches tbody tr")]
    slowest_first = sorted(["a red circle", "green square"], key=durations.get, reverse=True)
    assert [row[1] for row in rows] == slowest_first
    assert [abs(float(row[0]) - durations[query]) <= 0.5 for row, query in zip(rows, slowest_first)] == [True, True]
    assert all(row[2] == "kind=video" for row in rows)


def test_queue_depths_count_the_messages_waiting_in_the_broker(db):
    name = f"ops-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    with Connection(celery_app.conf.broker_url) as connection:
        producer = Producer(connection.default_channel)
        for number in range(3):
            producer.publish({"n": number}, exchange=queue.exchange, routing_key=name, declare=[queue])
        try:
            assert queue_depths(celery_app, (name, "ops-test-never-used")) == {name: 3, "ops-test-never-used": 0}
        finally:
            queue(connection.default_channel).delete()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_queues_the_live_worker_and_the_asset_a_worker_is_processing(
        celery_worker, client, admin, owner):
    # The session's worker is listed by its own heartbeat. What a worker runs is shown from its heartbeat
    # too; a busy worker's is written here, because a real step can finish between two heartbeats.
    asset = make_asset(owner, title="Harbour at dawn", status="processing")
    busy = {"hostname": "busy@ops-test", "queues": ["ml"], "seen_at": time.time(), "runs": [],
            "running": [{"task": "asset_sample_frames", "asset_id": asset.pk, "started_at": time.time() - 3}]}
    with Connection(celery_app.conf.broker_url) as connection:
        connection.default_channel.client.set(KEY_PREFIX + busy["hostname"], json.dumps(busy), ex=60)
        try:
            client.force_login(admin)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                page = page_of(client)
                workers = {worker.strong.get_text(): worker for worker in page.select(".ops-workers li.worker")}
                if celery_worker.name in workers:
                    break
                time.sleep(0.2)
        finally:
            connection.default_channel.client.delete(KEY_PREFIX + busy["hostname"])
    assert celery_worker.name in workers, "the page never listed the live worker"
    running = workers["busy@ops-test"].select_one(f".running a[href='/assets/{asset.pk}/']")
    assert running is not None and "asset_sample_frames" in workers["busy@ops-test"].get_text()
    assert [row.td.get_text() for row in page.select(".ops-queues tbody tr")] == ["media", "ml", "default"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_retry_all_queues_a_group_again_and_the_worker_makes_it_ready(
        celery_worker, client, admin, owner_api, two_scene_video):
    with open(two_scene_video, "rb") as handle:
        asset_id = owner_api.post("/api/assets", {"file": handle}, format="multipart").json()["id"]
    asset = wait_for_asset(asset_id)
    assert asset.status == "ready", asset.error
    asset_fail(asset_id=asset.pk, run_id=str(asset.run_id), message=DISK_FULL)
    bystander = make_asset(None, title="Odd file", content=b"x", status="failed", error=NOT_A_VIDEO)

    client.force_login(admin)
    answer = client.post("/ops/failed/retry", {"error": DISK_FULL}, follow=True)
    assert "1 failed asset is queued for processing again." in answer.content.decode()
    assert Asset.objects.get(pk=asset_id).status in ("queued", "processing")
    assert Asset.objects.get(pk=bystander.pk).status == "failed"
    retried = wait_for_asset(asset_id)
    assert retried.status == "ready" and retried.error is None and retried.run_id != asset.run_id

    page = page_of(client)
    assert [group.select_one(".failure-error").get_text() for group in page.select(".failure-group")] == [NOT_A_VIDEO]
    summary = page.select_one(".ops-throughput p").get_text(" ", strip=True)
    assert summary == f"1 asset made ready, {retried.duration:.0f} s of video."
    buckets = [int(row.select("td")[1].get_text()) for row in page.select(".ops-throughput tbody tr")]
    assert len(buckets) == 12 and sum(buckets) == 1 and buckets[-1] == 1
