"""Embedded Postgres + Redis per data dir: started on demand, shared, stopped by the last user."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from mediahub.embedded import Services, socket_dir_for


@pytest.fixture
def two_data_dirs():
    dirs = [Path(tempfile.mkdtemp(prefix="mh-emb-")) for _ in range(2)]
    yield dirs
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)


def redis_client(services: Services) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(services.redis.socket_path))


def test_two_data_dirs_run_side_by_side_without_sharing_anything(two_data_dirs):
    first, second = (Services(path) for path in two_data_dirs)
    first.attach()
    second.attach()
    try:
        with psycopg.connect(first.postgres.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (x int)")
            assert conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        with psycopg.connect(second.postgres.url) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
        redis_client(first).set("key", "first")
        assert redis_client(second).get("key") is None
        assert first.postgres.socket_dir != second.postgres.socket_dir
    finally:
        first.detach()
        second.detach()
    assert not first.postgres.is_running() and not second.redis.is_running()


def test_a_second_process_shares_the_running_services_and_the_last_one_stops_them(two_data_dirs):
    data_dir = two_data_dirs[0]
    services = Services(data_dir)
    services.attach()
    pid = services.postgres.pid()
    script = ("import sys; from pathlib import Path; from mediahub.embedded import Services; "
              "s = Services(Path(sys.argv[1])); s.attach(); print(s.postgres.pid()); s.detach()")
    other = subprocess.run([sys.executable, "-c", script, str(data_dir)], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[2], check=True)
    assert int(other.stdout.strip()) == pid  # the same server, not a second one
    assert services.postgres.is_running()  # still up: this process uses it
    services.detach()
    assert not services.postgres.is_running() and not services.redis.is_running()


def test_services_restart_on_existing_data(two_data_dirs):
    services = Services(two_data_dirs[0])
    services.attach()
    with psycopg.connect(services.postgres.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    services.detach()
    again = Services(two_data_dirs[0])
    again.attach()
    try:
        with psycopg.connect(again.postgres.url) as conn:
            assert conn.execute("SELECT to_regclass('kept')").fetchone() == ("kept",)
    finally:
        again.detach()


def test_long_data_dir_paths_get_a_short_socket_directory():
    long_dir = Path("/tmp") / ("x" * 120)
    socket_dir = socket_dir_for(long_dir)
    assert len(str(socket_dir / ".s.PGSQL.5432")) < 100
    assert socket_dir != socket_dir_for(Path("/tmp") / ("y" * 120))
    assert socket_dir_for(Path("/srv/mediahub")) == Path("/srv/mediahub/run")
