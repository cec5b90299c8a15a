"""Web workers load the search model as they start (mediahub/gunicorn_config.py), so the first search
after a start doesn't wait for it; a model that can't be loaded is logged and the worker keeps serving."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mediahub.core.services import api_token_create
from tests.conftest import REPO, worker_env
from tests.core.test_serve import free_port
from workers.ml.clip import ClipSpec, clip_state, load_clip

pytestmark = pytest.mark.django_db(transaction=True)
QUERY = {"q": "a red circle on a blue background"}


class WebServer:
    """gunicorn with one gthread worker on the test database, as `make run` starts it."""

    def __init__(self, log_path: Path, *, warm: bool, **env):
        self.base = f"http://127.0.0.1:{free_port()}"
        self.log_path = log_path
        config = ["--config", "python:mediahub.gunicorn_config"] if warm else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", *config, "--bind", self.base[7:],
             "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--no-control-socket"],
            cwd=REPO, env=worker_env(**env), stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def health(self, *, timeout: float = 60) -> dict:
        """The first health answer, once the worker serves."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                return requests.get(self.base + "/api/health", timeout=5).json()
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout}s:\n{self.log()}")

    def health_until(self, state: str, *, timeout: float = 120) -> list[str]:
        """The search_model states health reported until it said `state`."""
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen.append(self.health()["search_model"])
            if seen[-1] == state:
                return seen
            time.sleep(0.1)
        raise AssertionError(f"search_model stayed {seen[-1]!r}, not {state!r}:\n{self.log()}")

    def timed_search(self, token: str) -> tuple[requests.Response, float]:
        started = time.monotonic()
        response = requests.get(self.base + "/api/search", params=QUERY, timeout=120,
                                headers={"Authorization": f"Token {token}"})
        return response, time.monotonic() - started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(name: str, **kwargs) -> WebServer:
        servers.append(WebServer(tmp_path / f"{name}.log", **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_a_started_worker_has_the_model_before_any_search_and_answers_the_first_at_once(serve, viewer):
    token = api_token_create(user=viewer)
    cold = serve("cold", warm=False)
    assert cold.health()["search_model"] == "not_loaded"
    cold_response, cold_seconds = cold.timed_search(token)
    assert cold_response.status_code == 200, cold_response.text

    warm = serve("warm", warm=True)
    states = warm.health_until("loaded")
    assert states[0] == "loading" and set(states) == {"loading", "loaded"}  # it served while loading
    warm_response, warm_seconds = warm.timed_search(token)
    assert warm_response.status_code == 200, warm_response.text
    assert warm_response.json()["query"] == QUERY["q"]
    print(f"first search: cold {cold_seconds:.2f} s, warm {warm_seconds:.2f} s")
    assert warm_seconds < cold_seconds / 3, (warm_seconds, cold_seconds)
    assert warm.log().count("loaded CLIP") == 1  # loaded at the start, not again by the search


def test_a_model_that_cannot_load_is_logged_and_the_worker_keeps_serving(serve, viewer, tmp_path):
    missing = tmp_path / "no-such-checkpoint.pt"
    server = serve("broken", warm=True, MEDIAHUB_CLIP_MODEL="ViT-B-32", MEDIAHUB_CLIP_PRETRAINED=str(missing))
    server.health_until("unavailable")
    response, _ = server.timed_search(api_token_create(user=viewer))
    assert response.status_code == 503
    sentence = response.json()["detail"]
    assert sentence.startswith("Search is unavailable: The CLIP model ViT-B-32") and str(missing) in sentence
    warnings = [json.loads(line) for line in server.log().splitlines() if line.startswith('{"level": "WARNING"')]
    assert any(line["logger"] == "mediahub.search.selectors" and line["message"] == sentence for line in warnings)
    assert server.health()["status"] == "ok"  # the worker still serves


def test_a_search_arriving_mid_load_waits_for_the_same_load(caplog):
    spec = ClipSpec(name="demo", pretrained="", cache_dir="test-mid-load")  # not loaded in this process yet
    assert clip_state(spec) == "not_loaded"
    models = []
    threads = [threading.Thread(target=lambda: models.append(load_clip(spec))) for _ in range(3)]
    with caplog.at_level(logging.INFO, logger="workers.ml.clip"):
        for thread in threads:
            thread.start()
        states = {clip_state(spec)}
        for thread in threads:
            thread.join()
    assert states <= {"loading", "loaded"}
    assert len(models) == 3 and models[0] is models[1] is models[2]
    assert sum("loaded CLIP" in record.message for record in caplog.records) == 1
    assert clip_state(spec) == "loaded"
