"""The production recipe (compose.yaml, Dockerfile, docs/deploy/): checked against the code, and its process
commands run for real. There is no Docker daemon here, so the containers themselves never run in the suite:
the web server and the workers are started with the recipe's own commands and environment, on this
session's PostgreSQL and Redis, each with a data dir of its own."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
import yaml
from django.core.management import get_commands

from tests.conftest import REPO, RED_CIRCLE, database_url
from tests.core.test_serve import free_port
from tests.storage.conftest import S3Server, other_workers_paused
from workers.celery import QUEUES, app
from workers.pipeline import UPLOAD_STEPS

COMPOSE_DEFAULT = re.compile(r"\$\{\w+:-([^}]*)\}")
COMPOSE_REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")  # ${NAME:?message}: Compose stops unless .env sets it
DOT_ENV = {"POSTGRES_PASSWORD": "test-password", "S3_ACCESS_KEY": "test-key", "S3_SECRET_KEY": "test-secret"}


def with_defaults(value):
    """compose.yaml's values as Compose gives them with a .env file of DOT_ENV: ${NAME:-default} → default."""
    if isinstance(value, dict):
        return {key: with_defaults(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_defaults(item) for item in value]
    if not isinstance(value, str):
        return value
    return COMPOSE_REQUIRED.sub(lambda found: DOT_ENV[found[1]], COMPOSE_DEFAULT.sub(r"\1", value))


COMPOSE_TEXT = (REPO / "compose.yaml").read_text()
COMPOSE = with_defaults(yaml.safe_load(COMPOSE_TEXT))
SERVICES = COMPOSE["services"]
# The containers that run mediahub's own image (the rest are PostgreSQL, Redis, the S3 server and its bucket).
MEDIAHUB_SERVICES = {name: service for name, service in SERVICES.items()
                     if service.get("image", "").startswith("mediahub:")}
LONG_RUNNING = ("web", "worker-media", "worker-ml", "beat")
UNITS = REPO / "docs" / "deploy"
UNIT_VENV = "/srv/mediahub/.venv/bin/"
ENV_READ = re.compile(r"""(?:env\.\w+|os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_the_app_reads() -> set[str]:
    found = {"DJANGO_SETTINGS_MODULE"}
    for folder in ("mediahub", "workers"):
        for path in (REPO / folder).rglob("*.py"):
            found |= set(ENV_READ.findall(path.read_text()))
    return found


def command_of(service: str) -> list[str]:
    return [str(part) for part in SERVICES[service]["command"]]


def option_values(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == option]


def worker_queues(service: str) -> set[str]:
    (queues,) = option_values(command_of(service), "-Q")
    return set(queues.split(","))


def unit_environment_file() -> dict[str, str]:
    lines = (UNITS / "mediahub.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def unit_exec_start(unit: str) -> list[str]:
    (line,) = [line for line in (UNITS / unit).read_text().splitlines() if line.startswith("ExecStart=")]
    return [part.removeprefix(UNIT_VENV).replace("%%", "%") for part in shlex.split(line.removeprefix("ExecStart="))]


# The recipe against the code.

def test_every_variable_the_recipe_sets_is_one_the_app_reads():
    read = variables_the_app_reads()
    for name, service in MEDIAHUB_SERVICES.items():
        unread = set(service["environment"]) - read
        assert not unread, f"compose.yaml's {name} sets {unread}, which nothing in mediahub reads"
    unread = set(unit_environment_file()) - read
    assert not unread, f"docs/deploy/mediahub.env sets {unread}, which nothing in mediahub reads"


def test_every_command_the_recipe_runs_exists():
    commands = get_commands()
    for name, service in MEDIAHUB_SERVICES.items():
        command = command_of(name)
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in commands, f"{name} runs manage.py {command[2]}, which doesn't exist"
        elif command[0] == "celery":
            assert command[1:3] == ["-A", "workers.celery:app"] and command[3] in ("worker", "beat"), name
        else:
            assert command[:4] == ["gunicorn", "mediahub.wsgi:application", "-c", "python:mediahub.gunicorn_config"]
    for module in ("mediahub.wsgi", "mediahub.gunicorn_config"):
        __import__(module)


def test_the_workers_consume_every_queue_and_every_routed_task_reaches_one():
    kinds = {name: worker_queues(name) for name in MEDIAHUB_SERVICES if option_values(command_of(name), "-Q")}
    assert set(kinds) == {"worker-media", "worker-ml"}
    consumed = set().union(*kinds.values())
    assert consumed == set(QUEUES)
    routed = {route["queue"] for route in app.conf.task_routes.values()} | {app.conf.task_default_queue}
    assert routed <= consumed
    assert kinds["worker-ml"] == {"ml"}, "model inference runs on its own workers (GPU machines)"


def test_web_and_workers_start_after_migrate_and_healthy_services():
    for name in LONG_RUNNING:
        depends = {service: rule["condition"] for service, rule in SERVICES[name]["depends_on"].items()}
        assert depends == {"migrate": "service_completed_successfully", "postgres": "service_healthy",
                           "redis": "service_healthy", "s3": "service_healthy",
                           "s3-bucket": "service_completed_successfully"}, name
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"  # a one-shot
    for name in ("web", "worker-media", "worker-ml", "postgres", "redis", "s3"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["s3-bucket"]["depends_on"] == {"s3": {"condition": "service_healthy"}}


def test_the_mediahub_containers_share_nothing_but_the_services():
    volumes = [mount.split(":")[0] for service in MEDIAHUB_SERVICES.values() for mount in service["volumes"]]
    assert len(volumes) == len(set(volumes)) == len(MEDIAHUB_SERVICES), "each container has a data dir of its own"
    for name, service in MEDIAHUB_SERVICES.items():
        environment = service["environment"]
        assert [mount.split(":")[1] for mount in service["volumes"]] == [environment["MEDIAHUB_DATA_DIR"]], name
        assert environment["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        store = urlsplit(environment["MEDIAHUB_STORAGE_URL"])
        assert (store.scheme, store.port, store.path) == ("s3+http", 8333, "/mediahub")
        # Presigned links name the store's host: the same name must reach it from the containers and browsers.
        assert [store.hostname] == SERVICES["s3"]["networks"]["default"]["aliases"]
        assert "8333:8333" in " ".join(SERVICES["s3"]["ports"])
    models = {(service["environment"]["MEDIAHUB_CLIP_MODEL"], service["environment"]["MEDIAHUB_CLIP_PRETRAINED"])
              for service in MEDIAHUB_SERVICES.values()}
    assert len(models) == 1, "web and workers embed with the same model"


def test_the_image_is_built_from_the_projects_python_and_requirements():
    dockerfile = (REPO / "Dockerfile").read_text()
    (python,) = re.findall(r"^FROM python:(\d+\.\d+)[.-]", dockerfile, re.M)
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11"  # CONTRACT.md section 1
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (REPO / source).exists(), source
    assert "pip install" in dockerfile and "-r /app/requirements.txt" in dockerfile
    (cmd,) = re.findall(r"^CMD (\[.*?\])$", dockerfile.replace("\\\n", ""), re.M)
    assert json.loads(cmd) == command_of("web"), "the image's default command is the web server's"
    ignored = (REPO / ".dockerignore").read_text().split()
    for needed in ("manage.py", "requirements.txt", "mediahub", "workers", "templates", "locale"):
        assert (REPO / needed).exists() and needed not in ignored and f"{needed}/" not in ignored


def test_the_systemd_units_run_the_same_commands_as_the_containers():
    for service in ("web", "worker-media", "worker-ml", "beat", "migrate"):
        unit = f"mediahub-{service}.service"
        assert unit_exec_start(unit) == command_of(service), unit
        assert "EnvironmentFile=/etc/mediahub/mediahub.env" in (UNITS / unit).read_text()
    environment = unit_environment_file()
    compose_variables = set().union(*(service["environment"] for service in MEDIAHUB_SERVICES.values()))
    assert {"DATABASE_URL", "REDIS_URL", "MEDIAHUB_STORAGE_URL", "MEDIAHUB_DATA_DIR"} <= set(environment)
    assert compose_variables - {"MEDIAHUB_CLIP_MODEL", "MEDIAHUB_CLIP_PRETRAINED"} <= set(environment)


# The recipe's processes, run.

def recipe_environment(service: str, data_dir: Path, storage_url: str) -> dict:
    """The service's environment from compose.yaml, pointed at this session's PostgreSQL and Redis and the
    tests' S3 server instead of the containers."""
    from django.conf import settings
    from django.db import connection

    environment = {key: str(value) for key, value in SERVICES[service]["environment"].items()}
    environment.update(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=settings.REDIS_URL,
                       MEDIAHUB_STORAGE_URL=storage_url, MEDIAHUB_DATA_DIR=str(data_dir), MEDIAHUB_CLIP_MODEL="demo")
    if "MEDIAHUB_SCRATCH_DIR" in environment:
        environment["MEDIAHUB_SCRATCH_DIR"] = str(data_dir / "scratch")
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith(("MEDIAHUB_", "DJANGO_")) and key not in ("DATABASE_URL", "REDIS_URL")}
    return {**inherited, **environment, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


@pytest.fixture
def object_store(tmp_path):
    """The recipe's object store: a real S3 server (`rclone serve s3`, as tests/storage start it). The
    session's worker (local storage, on the same broker) takes no pipeline message meanwhile."""
    server = S3Server(tmp_path / "s3", tmp_path / "s3.log")
    server.start()
    with other_workers_paused():
        yield server.url
    server.stop()


def with_option(command: list[str], option: str, value: str) -> list[str]:
    command = list(command)
    command[command.index(option) + 1] = value
    return command


class RecipeProcess:
    def __init__(self, service: str, command: list[str], tmp_path: Path, storage_url: str):
        self.service = service
        self.data_dir = tmp_path / service
        self.data_dir.mkdir()
        self.log_path = tmp_path / f"{service}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=recipe_environment(service, self.data_dir, storage_url),
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def wait_until(check, *, timeout: float, processes: list[RecipeProcess], what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            assert process.process.poll() is None, f"{process.service} exited:\n{process.log()[-3000:]}"
        if result := check():
            return result
        time.sleep(0.25)
    logs = "\n".join(f"--- {process.service}\n{process.log()[-2000:]}" for process in processes)
    raise AssertionError(f"{what} within {timeout}s\n{logs}")


def answer(url: str, **kwargs):
    try:
        return requests.get(url, timeout=30, **kwargs)
    except requests.RequestException:  # not listening yet, or too busy to answer (2 shared cores)
        return None


def steps_succeeded(worker: RecipeProcess, asset_id: int) -> set[str]:
    return {line["message"].split("[")[0].removeprefix("Task workers.tasks.") for line in worker.json_lines()
            if line.get("asset_id") == asset_id and "succeeded" in line["message"]}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tag_vocabulary")
def test_the_recipes_web_server_and_workers_take_an_upload_to_ready(tmp_path, owner, make_video, object_store):
    from mediahub.core.services import api_token_create

    # The one-shot first, as compose orders it; the session's database is migrated already, so the
    # servers start alongside it here (the suite's time).
    migrate = subprocess.Popen(command_of("migrate"), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=recipe_environment("migrate", tmp_path / "migrate", object_store))
    port = free_port()
    web_command = with_option(with_option(command_of("web"), "-b", f"127.0.0.1:{port}"), "-w", "2")  # 2 cores here
    processes = [RecipeProcess("web", web_command, tmp_path, object_store)]
    for kind in ("worker-media", "worker-ml"):
        command = with_option(command_of(kind), "-c", "1")
        processes.append(RecipeProcess(kind, command, tmp_path, object_store))
    web, media_worker, ml_worker = processes
    base = f"http://127.0.0.1:{port}"
    try:
        for worker in (media_worker, ml_worker):
            wait_until(lambda: any(line["message"].endswith(" ready.") for line in worker.json_lines()), timeout=90,
                       processes=processes, what=f"{worker.service} did not start")
        health = wait_until(lambda: (body := answer(f"{base}/api/health")) is not None and body.status_code == 200
                            and body.json(), timeout=60, processes=processes, what="the web server did not answer")
        assert health["database"] == health["broker"] == "ok" and health["workers"] >= 2
        assert (web.data_dir / "secret_key").exists(), "gunicorn's master keeps the web's key in its data dir"

        migrated = migrate.communicate(timeout=60)[0]
        assert migrate.returncode == 0 and "No migrations to apply" in migrated, migrated
        headers = {"Authorization": f"Token {api_token_create(user=owner)}"}
        video = make_video(scenes=(RED_CIRCLE,))
        with open(video, "rb") as handle:
            created = requests.post(f"{base}/api/assets", files={"file": handle}, headers=headers, timeout=30)
        assert created.status_code == 201, created.text
        asset_id = created.json()["id"]
        asset = wait_until(lambda: (got := answer(f"{base}/api/assets/{asset_id}", headers=headers)) is not None
                           and got.json()["status"] in ("ready", "failed") and got.json(),
                           timeout=120, processes=processes, what="the upload was not done")
        assert asset["status"] == "ready", asset["error"]
        found = requests.get(f"{base}/api/search", params={"q": "a red circle"}, headers=headers, timeout=30).json()
        assert found["results"][0]["asset_id"] == asset_id
        redirect = requests.get(urljoin(base, asset["thumbnail"]), headers=headers, timeout=10, allow_redirects=False)
        assert redirect.status_code == 302, redirect.text  # the picture comes from the store, not the web server
        assert requests.get(redirect.headers["Location"], timeout=10).content.startswith(b"\xff\xd8\xff")  # a JPEG

        # Each kind of worker ran the steps of its own queues, and between them every step an upload runs
        # (the asset is ready a moment before its last step logs that it succeeded).
        wait_until(lambda: steps_succeeded(media_worker, asset_id) | steps_succeeded(ml_worker, asset_id)
                   == set(UPLOAD_STEPS), timeout=20, processes=processes, what="the workers did not log every step")
        media_steps, ml_steps = steps_succeeded(media_worker, asset_id), steps_succeeded(ml_worker, asset_id)
        routes = {task.removeprefix("workers.tasks."): route["queue"] for task, route in app.conf.task_routes.items()}
        assert ml_steps == {step for step in UPLOAD_STEPS if routes.get(step) == "ml"}
        assert media_steps == set(UPLOAD_STEPS) - ml_steps
        for process in processes:  # media live in the bucket only; scratch is emptied after each step
            left = [path for folder in ("media", "scratch") for path in (process.data_dir / folder).rglob("*")
                    if path.is_file()]
            assert not left, f"{process.service} kept {left}"
    finally:
        for process in processes:
            process.stop()
        if migrate.poll() is None:
            migrate.kill()


def test_the_published_store_and_the_database_have_no_default_credentials():
    """The S3 store's port is published for the media links: Compose must refuse to start until .env sets
    the store's keys and the database's password, rather than start with a password anyone can read here."""
    required = set(COMPOSE_REQUIRED.findall(COMPOSE_TEXT))
    assert required == set(DOT_ENV)
    # An empty default is no secret: MEDIAHUB_SECRET_KEY unset makes the web generate its own key.
    known = [name for name, default in re.findall(r"\$\{(\w+):-([^}]*)\}", COMPOSE_TEXT)
             if re.search("PASSWORD|SECRET|ACCESS_KEY|TOKEN", name) and default]
    assert not known, known
