"""/metrics for Prometheus: absent without MEDIAHUB_METRICS_TOKEN, behind `Authorization: Bearer <token>`;
the web side's request counters (summed over gunicorn's workers) and the library's state at scrape time."""

import concurrent.futures
import http.client
import os
import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mediahub.assets.models import Asset
from tests.assets.test_pages import make_asset
from tests.conftest import REPO, worker_env

TOKEN = "scrape-me-7f3a"
REQUESTS_BY_VIEW = "django_http_requests_total_by_view_transport_method"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_without_a_token_configured_there_is_no_metrics_endpoint(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_metrics_need_the_bearer_token_and_nothing_else_will_do(client, admin, metrics_token):
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-7f3b").status_code == 403
    client.force_login(admin)  # a session is not the token either
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_library_metrics_follow_its_state_at_each_scrape(client, owner, metrics_token):
    failed = ("mediahub_assets", (("status", "failed"),))
    ready_seconds = ("mediahub_video_ready_seconds", ())
    make_asset(owner, title="Ready", content=b"1", status="ready")  # 3 s of video
    make_asset(owner, title="Broken", content=b"2", status="failed", error="Disk full.")
    first = scrape(client)
    assert first[failed] == 1 and first[ready_seconds] == 3.0
    assert first[("mediahub_broker_up", ())] == 1 and first[("mediahub_database_up", ())] == 1
    assert {labels for name, labels in first if name == "mediahub_queue_depth"} == {
        (("queue", queue),) for queue in ("media", "ml", "default")}

    make_asset(owner, title="Broken too", content=b"3", status="failed", error="Disk full.")
    Asset.objects.filter(title="Ready").update(status="failed")
    second = scrape(client)
    assert second[failed] == 3 and second[ready_seconds] == 0


def test_web_requests_are_counted_by_view(client, db, metrics_token):
    health = (f"{REQUESTS_BY_VIEW}_total", (("method", "GET"), ("transport", "http"), ("view", "api:health")))
    before = scrape(client).get(health, 0)
    for _ in range(3):
        client.get("/api/health")
    assert scrape(client)[health] == before + 3


def test_the_workers_are_counted_under_gunicorn_summed_over_its_worker_processes(tmp_path, transactional_db):
    """gunicorn with two workers: whichever answers the scrape reports every worker's requests."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"left over from an earlier run")
    port = _free_port()
    env = worker_env(MEDIAHUB_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(multiproc))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", "--config", "python:mediahub.gunicorn_config",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2", "--worker-class", "gthread",
         "--no-control-socket"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gunicorn.log", "wb"), start_new_session=True)
    try:
        sent = _wait_until_serving(port, server, tmp_path / "gunicorn.log")  # health requests answered
        assert not (multiproc / "counter_999999.db").exists()  # emptied at start
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Until both workers have answered some (each writes files of its own, named by its pid).
            while len({path.stem.rsplit("_", 1)[1] for path in multiproc.glob("counter_*.db")}) < 2:
                assert sent < 400, "only one gunicorn worker ever answered"
                statuses = list(pool.map(lambda _: _get(port, "/api/health")[0], range(16)))
                assert set(statuses) == {200}
                sent += len(statuses)
        status, body = _get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        health = (f"{REQUESTS_BY_VIEW}_total", (("method", "GET"), ("transport", "http"), ("view", "api:health")))
        assert samples(body)[health] == sent
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _wait_until_serving(port: int, server: subprocess.Popen, log) -> int:
    """How many /api/health requests it took (the last one answered)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            assert _get(port, "/api/health")[0] == 200
            return 1
        except OSError:  # not listening yet: nothing was counted
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer within 90 s:\n{log.read_text()}")
