"""How a process finds its data dir and attaches to the embedded services: explicitly, never on import.

`manage.py` (every command, `serve` included) and the test session call into
here; importing settings only computes addresses. A command run "in another
terminal" without MEDIAHUB_DATA_DIR finds the data dir of the `make run`
started from this checkout, or says that it needs MEDIAHUB_DATA_DIR.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from mediahub import embedded

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO / "var"
INSTANCES_DIR = DEFAULT_DATA_DIR / "instances"
# Commands that never touch the database or the broker.
WITHOUT_SERVICES = {"help", "version", "check", "makemigrations", "diffsettings", "collectstatic", "startapp",
                    "compilemessages", "makemessages", "sendtestemail", "spectacular"}
# Commands that may make a new data dir; every other one needs an existing database.
CREATE_DATA_DIR = {"serve", "migrate"}


class DataDirUnknown(Exception):
    """Which data dir a command means can't be told; the message says what to do."""


def data_dir_from_environment() -> Path:
    return Path(os.environ.get("MEDIAHUB_DATA_DIR", "").strip() or DEFAULT_DATA_DIR).resolve()


def secret_key_file(data_dir: Path) -> Path:
    return data_dir / "secret_key"


def has_database(data_dir: Path) -> bool:
    return (data_dir / "postgres" / "PG_VERSION").exists()


def running_instances() -> list[dict]:
    """The `make run` instances started from this checkout that are still alive."""
    alive = []
    for path in sorted(INSTANCES_DIR.glob("*.json")):
        try:
            instance = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if embedded.pid_alive(instance.get("pid")):
            alive.append(instance)
    return alive


def instance_register(*, data_dir: Path, url: str) -> Path:
    INSTANCES_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCES_DIR / f"{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "data_dir": str(data_dir), "url": url}))
    return path


def resolve_data_dir(command: str) -> Path:
    """The data dir a command should use (see the module docstring)."""
    data_dir = data_dir_from_environment()
    explicit = bool(os.environ.get("MEDIAHUB_DATA_DIR", "").strip())
    if command in CREATE_DATA_DIR or os.environ.get("DATABASE_URL") or has_database(data_dir):
        return data_dir
    if explicit:
        raise DataDirUnknown(f"MEDIAHUB_DATA_DIR={data_dir} holds no mediahub database yet; start `make run` "
                             "with it once (or point MEDIAHUB_DATA_DIR at the data dir of a running instance).")
    instances = running_instances()
    if len(instances) == 1:
        found = Path(instances[0]["data_dir"])
        sys.stderr.write(f"Using the data dir of the running mediahub ({found}); set MEDIAHUB_DATA_DIR to choose another.\n")
        return found
    if not instances:
        raise DataDirUnknown(f"No mediahub is running from this checkout and {data_dir} holds no database. Start "
                             "`make run` first, or set MEDIAHUB_DATA_DIR to the data dir of the instance you mean.")
    listed = ", ".join(instance["data_dir"] for instance in instances)
    raise DataDirUnknown(f"Several mediahub instances are running ({listed}); set MEDIAHUB_DATA_DIR to the one you mean.")


def data_dir_prepare(data_dir: Path) -> None:
    """Make the data dir and its secret key (readable by its owner only) if they don't exist yet."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "static").mkdir(exist_ok=True)
    key_file = secret_key_file(data_dir)
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))


def services_attach(data_dir: Path) -> None:
    """Attach to (starting if needed) the embedded services that DATABASE_URL / REDIS_URL don't replace."""
    postgres, redis = not os.environ.get("DATABASE_URL"), not os.environ.get("REDIS_URL")
    data_dir_prepare(data_dir)
    if postgres or redis:
        embedded.ensure_services(data_dir, postgres=postgres, redis=redis)


def command_prepare(argv: list[str]) -> None:
    """What `manage.py` does before running a command: pick the data dir, attach the services it needs."""
    command = argv[1] if len(argv) > 1 else "help"
    if command.startswith("-") or command in WITHOUT_SERVICES:
        return
    needs_embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    data_dir = resolve_data_dir(command) if needs_embedded else data_dir_from_environment()
    os.environ["MEDIAHUB_DATA_DIR"] = str(data_dir)
    services_attach(data_dir)
