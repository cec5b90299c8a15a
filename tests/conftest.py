"""Shared fixtures: role users, API clients, generated media, and a real Celery worker process."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from rest_framework.test import APIClient

from mediahub.core.roles import ADMIN, EDITOR, role_set
from mediahub.core.services import api_token_create
from tests import factories
from workers.ml.demo.video import write_world_video
from workers.ml.demo.world import Scene

REPO = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 90


@pytest.fixture(scope="session", autouse=True)
def _fresh_media_root():
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    yield


@pytest.fixture
def offline(monkeypatch):
    """An air-gapped machine: the model hub is not tried. (huggingface_hub reads HF_HUB_OFFLINE once, at import;
    without the flag, this machine's unreachable hub costs 46 s of retries before the same error.)"""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


# Roles (CONTRACT.md section 6): the owner is the editor who uploads the test's assets, an editor
# is another editor, a viewer is any new user, an admin manages users and the vocabulary;
# anonymous clients are not signed in.

@pytest.fixture
def tag_vocabulary(transactional_db):
    """The default vocabularies again (demo and newsroom): a transactional test's flush removes the rows the migration seeded."""
    seeded = importlib.import_module("mediahub.assets.migrations.0007_vocabulary_sets")
    seeded.add_labels(django_apps, None)


def user_with_role(prefix: str, role: str | None):
    user = factories.user(prefix)
    if role is not None:
        role_set(user=user, role=role)
    return user


@pytest.fixture
def owner(db):
    return user_with_role("owner", EDITOR)


@pytest.fixture
def editor(db):
    return user_with_role("editor", EDITOR)


@pytest.fixture
def viewer(db):
    return user_with_role("viewer", None)  # every new user is a viewer


@pytest.fixture
def admin(db):
    return user_with_role("admin", ADMIN)


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)}")
    return client


@pytest.fixture
def owner_api(owner):
    return api_client_for(owner)


@pytest.fixture
def viewer_api(viewer):
    return api_client_for(viewer)


@pytest.fixture
def editor_api(editor):
    return api_client_for(editor)


@pytest.fixture
def admin_api(admin):
    return api_client_for(admin)


@pytest.fixture
def anonymous_api():
    return APIClient()


# Generated media from the demo model's test-pattern world.

RED_CIRCLE = Scene(shape="circle", colour="red", background="blue", duration=3.0, seed=1)
GREEN_SQUARE = Scene(shape="square", colour="green", background="white", duration=3.0, seed=2)


@pytest.fixture(scope="session")
def rendered_videos() -> dict[str, Path]:
    """The videos make_video rendered so far in this run, by what they show and how they are encoded."""
    return {}


@pytest.fixture
def make_video(tmp_path, tmp_path_factory, rendered_videos):
    """A video of `scenes` in the test's own folder. Each one is rendered once per run (0.4 s for the
    default 6 s) and copied for every test that asks for it, so a test may damage its copy."""
    def make(scenes=(RED_CIRCLE, GREEN_SQUARE), name="clip.mp4", **kwargs) -> Path:
        key = repr((list(scenes), Path(name).suffix, sorted(kwargs.items())))
        if key not in rendered_videos:
            rendered = tmp_path_factory.mktemp("rendered") / name
            write_world_video(rendered, list(scenes), **kwargs)
            rendered_videos[key] = rendered
        path = tmp_path / name
        shutil.copyfile(rendered_videos[key], path)
        return path

    return make


@pytest.fixture
def two_scene_video(make_video) -> Path:
    """6 s: a red circle on blue (0-3 s), then a green square on white (3-6 s)."""
    return make_video()


# A real Celery worker process on the test database and the session's Redis.

def database_url(db_settings: dict) -> str:
    user = quote(db_settings["USER"] or "")
    password = f":{quote(db_settings['PASSWORD'])}" if db_settings["PASSWORD"] else ""
    host = db_settings["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{db_settings['NAME']}?host={quote(host)}"
    port = f":{db_settings['PORT']}" if db_settings["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{db_settings['NAME']}"


def worker_env(**extra) -> dict:
    from django.db import connection

    env = dict(os.environ)
    env.update(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=settings.REDIS_URL,
               DJANGO_SETTINGS_MODULE="tests.settings", MEDIAHUB_CLIP_MODEL="demo",
               MEDIAHUB_DATA_DIR=str(settings.DATA_DIR), PYTHONPATH=str(REPO),
               MEDIAHUB_HEARTBEAT_SECONDS="1")  # the operations page sees a test's short tasks running
    env.update(extra)
    return env


class WorkerProcess:
    def __init__(self, name: str, log_path: Path, **env):
        from workers.celery import app

        self.app = app
        self.name = f"{name}-{os.getpid()}@test"
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", "media,ml,default",
             "--concurrency", "1", "--pool", "prefork", "-n", self.name, "--loglevel", "INFO"],
            cwd=REPO, env=worker_env(**env), stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited:\n{self.log()}")
            if self.app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise RuntimeError(f"the Celery worker did not answer within {WORKER_START_TIMEOUT}s:\n{self.log()}")

    def pool_children(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker for the session; tests that use it need committed data (transactional_db)."""
    from workers.pipeline import pipeline_purge

    pipeline_purge()
    worker = WorkerProcess("session", tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    worker.stop()


def wait_for_asset(asset_id: int, *, statuses=("ready", "failed"), timeout: float = 120):
    """Poll the database until the asset reaches one of `statuses`; return it."""
    from mediahub.assets.models import Asset

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asset = Asset.objects.get(pk=asset_id)
        if asset.status in statuses:
            return asset
        time.sleep(0.2)
    raise AssertionError(f"asset {asset_id} stayed {asset.status} ({asset.stage}, {asset.progress:.0%}) for {timeout}s")
