"""Safe defaults: importing settings starts nothing, the embedded database wants a password and hides
its socket, commands find the running instance or say what they need, HTTPS mode passes Django's
deployment checks, and housekeeping prunes what nobody needs any more."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg
import pytest
from django.utils import timezone

from mediahub import launch
from mediahub.assets.services import staging_prune
from mediahub.embedded import Services
from mediahub.assets.models import Asset
from mediahub.search.models import EmbeddingModel, Feedback, Search
from mediahub.search.services import searches_prune
from tests.conftest import REPO


@pytest.fixture
def fresh_data_dir():
    path = Path(tempfile.mkdtemp(prefix="mh-safe-")) / "data"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "MEDIAHUB_DATA_DIR",
                        "DJANGO_ALLOW_ASYNC_UNSAFE"}}  # set by the browser tests' fixture
    env.update(extra)
    return env


def test_importing_settings_starts_no_process_and_writes_nothing(fresh_data_dir):
    script = ("import os, django, psutil; os.environ['DJANGO_SETTINGS_MODULE'] = 'mediahub.settings'; "
              "django.setup(); from django.conf import settings; import workers.celery; "
              "print(len(psutil.Process().children(recursive=True)), settings.DATABASE_URL)")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=clean_env(MEDIAHUB_DATA_DIR=str(fresh_data_dir)))
    assert done.returncode == 0, done.stderr
    children, url = done.stdout.split()
    assert children == "0"
    assert str(fresh_data_dir) in url.replace("%2F", "/")  # it knows where the database would be...
    assert not fresh_data_dir.exists()  # ...but made nothing there


def test_the_embedded_database_needs_its_password_and_hides_its_socket(fresh_data_dir):
    services = Services(fresh_data_dir)
    services.attach()
    try:
        socket_dir = services.postgres.socket_dir
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((fresh_data_dir / "postgres.password").stat().st_mode) == 0o600
        with psycopg.connect(services.postgres.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        without_password = f"host={socket_dir} dbname=mediahub user=postgres password=wrong"
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(without_password)
        listening = [c for c in psutil.Process(services.postgres.pid()).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening == []  # no TCP port at all: the unix socket only
    finally:
        services.detach()


def manage(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=clean_env(**env),
                          capture_output=True, text=True, timeout=120)


def test_a_command_pointed_at_an_empty_data_dir_says_what_it_needs(fresh_data_dir):
    done = manage("create_api_token", "nobody", MEDIAHUB_DATA_DIR=str(fresh_data_dir))
    assert done.returncode == 2
    assert "holds no mediahub database yet" in done.stderr and "make run" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (fresh_data_dir / "postgres").exists()  # no stray cluster was made


def test_a_command_without_a_data_dir_finds_the_running_instance(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(launch, "INSTANCES_DIR", tmp_path / "instances")
    monkeypatch.setattr(launch, "DEFAULT_DATA_DIR", tmp_path / "nothing-here")
    monkeypatch.delenv("MEDIAHUB_DATA_DIR", raising=False)
    with pytest.raises(launch.DataDirUnknown, match="No mediahub is running"):
        launch.resolve_data_dir("createsuperuser")
    launch.instance_register(data_dir=settings.DATA_DIR, url="http://127.0.0.1:8000/")
    assert launch.resolve_data_dir("createsuperuser") == settings.DATA_DIR
    (tmp_path / "instances" / "1.json").write_text(json.dumps({"pid": 1, "data_dir": "/srv/other"}))
    with pytest.raises(launch.DataDirUnknown, match="Several mediahub instances"):
        launch.resolve_data_dir("createsuperuser")


def test_https_mode_passes_the_deployment_checks():
    done = manage("check", "--deploy", "--fail-level", "WARNING", MEDIAHUB_HTTPS="1",
                  MEDIAHUB_SECRET_KEY="x" * 20 + "a-long-random-looking-key-for-this-test-0123456789",
                  MEDIAHUB_ALLOWED_HOSTS="mam.example.org")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
    plain = manage("check", "--deploy", "--fail-level", "WARNING")
    assert plain.returncode != 0 and "SESSION_COOKIE_SECURE" in plain.stderr  # the mode is what fixes it


@pytest.mark.django_db
def test_housekeeping_drops_old_searches_but_keeps_judged_ones(viewer):
    model = EmbeddingModel.objects.create(key="test@prune", name="test", pretrained="x", dim=8)
    asset = Asset.objects.create(title="clip", original="originals/x.mp4", original_filename="x.mp4", size_bytes=1,
                                 sha256="0" * 64, kind="video")
    old, judged, recent = (Search.objects.create(model=model, vector=[1.0] + [0.0] * 7, query=q)
                           for q in ("old", "judged", "recent"))
    Search.objects.filter(pk__in=[old.pk, judged.pk]).update(created_at=timezone.now() - timedelta(days=91))
    Feedback.objects.create(search=judged, asset=asset, start=0, end=1, action="relevant", user=viewer)
    assert searches_prune(older_than_days=90) == 1
    assert set(Search.objects.values_list("query", flat=True)) >= {"judged", "recent"}
    assert not Search.objects.filter(query="old").exists()


@pytest.mark.django_db
def test_housekeeping_removes_abandoned_upload_files_only(settings):
    originals = Path(settings.MEDIA_ROOT) / "originals"
    originals.mkdir(parents=True, exist_ok=True)
    abandoned, fresh = originals / "abandoned.mp4.part", originals / "uploading.mp4.part"
    abandoned.write_bytes(b"x")
    fresh.write_bytes(b"y")
    day_ago = abandoned.stat().st_mtime - 25 * 3600
    os.utime(abandoned, (day_ago, day_ago))
    assert staging_prune(older_than_hours=24) == 1
    assert not abandoned.exists() and fresh.exists()
    fresh.unlink()
