"""`make run`: everything in the foreground until Ctrl-C.

Embedded Postgres and Redis (unless DATABASE_URL / REDIS_URL point elsewhere)
are attached by manage.py before this command runs; it migrates, starts one
Celery worker (with the beat scheduler for housekeeping) and a gunicorn web
server as child processes, and on SIGINT/SIGTERM stops the children, then the
embedded services, so nothing outlives it. The worker runs at a lower CPU
priority (MEDIAHUB_WORKER_NICE, 10), so an ingest doesn't slow searches down.

A child or an embedded service that dies meanwhile is started again (the
services in the same data dir and socket, so connections recover), after a
delay that doubles from 1 s to 30 s; one that dies within seconds of each of
five starts in a row is given up on, and everything stops.

The children run in sessions of their own, so Ctrl-C in the terminal reaches
only this process, which then stops each child once and waits out its grace
period (a gunicorn worker signalled by both the terminal and its master could
deadlock in its shutdown). If this process dies, the kernel stops the
children (PR_SET_PDEATHSIG).
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from mediahub.assets.services import assets_resume_incomplete
from mediahub.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServiceError, Services, attached_services
from mediahub.launch import instance_register
from workers.celery import QUEUES
from workers.pipeline import pipeline_purge

WEB_GRACE_SECONDS = 10  # gunicorn's graceful timeout for requests in flight
STOP_GRACE_SECONDS = WEB_GRACE_SECONDS + 10  # ours covers theirs
RESTART_FIRST_DELAY_SECONDS = 1.0  # doubled after each death, up to the maximum
RESTART_MAX_DELAY_SECONDS = 30.0
STABLE_SECONDS = 60  # a run this long resets the delay
QUICK_DEATH_SECONDS = 10  # dying this soon after a start, this many times in a row, means it cannot run
QUICK_DEATHS_TO_GIVE_UP = 5
_PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when `serve` dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _child_setup(nice: int):
    """What a child runs before exec: stop with `serve`, and lower its CPU priority by `nice`."""
    def setup() -> None:
        _stop_with_parent()
        if nice:
            os.nice(nice)
    return setup


class Supervised:
    """Something `serve` keeps running: started again after it dies, sooner the longer it had run."""

    name = ""
    log = ""  # where to look when it keeps dying
    # Its death loses pipeline messages (those it held unacknowledged would come back only after the broker's
    # visibility timeout, hours), so unfinished assets are queued again from the database once it is back.
    loses_work = False

    def __init__(self):
        self.started_at = 0.0
        self.delay = RESTART_FIRST_DELAY_SECONDS
        self.quick_deaths = 0
        self.restart_at: float | None = None  # set while it waits out its delay

    def launch(self) -> None:
        self._start()
        self.started_at = time.monotonic()
        self.restart_at = None

    def death_record(self, *, now: float) -> bool:
        """Schedule the next start; False when it died too soon too many times in a row to try again."""
        ran = now - self.started_at
        if ran >= STABLE_SECONDS:
            self.delay = RESTART_FIRST_DELAY_SECONDS
        self.quick_deaths = self.quick_deaths + 1 if ran < QUICK_DEATH_SECONDS else 0
        if self.quick_deaths >= QUICK_DEATHS_TO_GIVE_UP:
            return False
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, RESTART_MAX_DELAY_SECONDS)
        return True

    def ending(self) -> str | None:
        """How it ended ("was killed by SIGKILL"), or None while it runs."""
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError


def _exit_described(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


class ChildProcess(Supervised):
    """The gunicorn web server or the Celery worker: a process group of our own."""

    log = "the log above"

    def __init__(self, name: str, argv: list[str], env: dict, *, loses_work: bool = False, nice: int = 0):
        super().__init__()
        self.name, self.argv, self.env, self.loses_work, self.nice = name, argv, env, loses_work, nice
        self.process: subprocess.Popen | None = None

    def _start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, start_new_session=True,
                                        preexec_fn=_child_setup(self.nice))

    def ending(self) -> str | None:
        returncode = self.process.poll()
        if returncode is None:
            return None
        try:  # what its leader leaves behind (gunicorn workers, Celery pool processes) can serve no one
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return _exit_described(returncode)


class EmbeddedServer(Supervised):
    """The embedded PostgreSQL or Redis, started again in the same data dir (same socket, same data)."""

    def __init__(self, services: Services, server):
        super().__init__()
        self.services, self.server = services, server
        self.name = f"embedded {'PostgreSQL' if isinstance(server, EmbeddedPostgres) else 'Redis'}"
        self.loses_work = isinstance(server, EmbeddedRedis)  # no persistence: it comes back empty
        self.log = str(server.log_path)
        self.started_at = time.monotonic()  # it was started (or found running) before `serve`

    def _start(self) -> None:
        self.services.server_restart(self.server)

    def ending(self) -> str | None:
        if self.server.is_running():
            return None
        returncode = self.server.process.poll() if self.server.process is not None else None
        return _exit_described(returncode) if returncode is not None else "stopped"


class Command(BaseCommand):
    help = "Run the web server and a Celery worker (and embedded Postgres/Redis) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("MEDIAHUB_BIND", "127.0.0.1"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("MEDIAHUB_WEB_WORKERS", "2")))
        parser.add_argument("--concurrency", type=int,
                            default=int(os.environ.get("MEDIAHUB_WORKER_CONCURRENCY", str(min(2, os.cpu_count() or 1)))))
        parser.add_argument("--worker-nice", type=int, default=int(os.environ.get("MEDIAHUB_WORKER_NICE", "10")),
                            help="how much lower the worker's CPU priority is than the web server's (0-19)")

    def handle(self, *args, port: int, host: str, web_workers: int, concurrency: int, worker_nice: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is migrated.")
        if not os.environ.get("REDIS_URL"):  # our own broker, no worker attached yet
            pipeline_purge()
            self._resume_incomplete()
        children = self._children(port=port, host=host, web_workers=web_workers, concurrency=concurrency,
                                  worker_nice=worker_nice)
        for child in children:
            child.launch()
        services = attached_services()
        supervised = [*(EmbeddedServer(services, server) for server in (services.servers if services else [])),
                      *children]
        stopping = {"signal": None}

        def request_stop(signum, frame):
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        self._greet(host, port)
        registration = instance_register(data_dir=settings.DATA_DIR, url=f"http://{host}:{port}/")
        exit_code = 0
        while stopping["signal"] is None and not exit_code:
            exit_code = self._supervise(supervised)
            time.sleep(0.5)
        self.stdout.write("Stopping mediahub…")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        self._stop_children(children)
        registration.unlink(missing_ok=True)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _supervise(self, supervised: list[Supervised]) -> int:
        """Restart what is due and notice what died (embedded servers first); 1 when one cannot be kept running."""
        for thing in supervised:
            now = time.monotonic()
            if thing.restart_at is not None:
                if now >= thing.restart_at:
                    self._restart(thing)
                continue
            ending = thing.ending()
            if ending is None:
                continue
            if not thing.death_record(now=now):
                self.stderr.write(f"The {thing.name} {ending}: it died {QUICK_DEATHS_TO_GIVE_UP} times in a row within "
                                  f"{QUICK_DEATH_SECONDS} s of starting, so mediahub gives up and shuts down; "
                                  f"see {thing.log} for why.")
                return 1
            self.stderr.write(f"The {thing.name} {ending}; restarting it in {thing.restart_at - now:g} s.")
        return 0

    def _restart(self, thing: Supervised) -> None:
        try:
            thing.launch()
        except EmbeddedServiceError as exc:  # counted as a death: tried again later, or given up on
            thing.restart_at = None
            thing.started_at = time.monotonic()
            self.stderr.write(f"The {thing.name} did not start again: {str(exc).splitlines()[0]}")
            return
        self.stdout.write(f"Restarted the {thing.name}.")
        if thing.loses_work:
            try:
                self._resume_incomplete()
            except DatabaseError as exc:  # the database down too: the workers' stalled-asset sweep does it later
                self.stderr.write(f"Could not queue the unfinished assets again ({exc.__class__.__name__}); "
                                  "the workers will, once the database answers.")

    def _resume_incomplete(self) -> None:
        close_old_connections()  # this process's connection may predate a restart of the database
        resumed = assets_resume_incomplete()
        if resumed:
            self.stdout.write(f"Resumed processing of {resumed} unfinished asset(s).")

    def _child_env(self) -> dict:
        env = dict(os.environ)
        env.update(DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL,
                   MEDIAHUB_DATA_DIR=str(settings.DATA_DIR), DJANGO_SETTINGS_MODULE="mediahub.settings")
        env.setdefault("MEDIAHUB_LOG_FORMAT", "plain")  # a person reads `make run`'s terminal (README, "Logs")
        return env

    def _children(self, *, port: int, host: str, web_workers: int, concurrency: int,
                  worker_nice: int) -> list[ChildProcess]:
        env = self._child_env()
        worker = ChildProcess("celery worker", [
            sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", ",".join(QUEUES),
            "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", f"mediahub-{os.getpid()}@%h",
            "--beat", "--schedule", str(settings.DATA_DIR / "run" / "celerybeat-schedule"),
        ], env, loses_work=not os.environ.get("REDIS_URL"),  # on a shared broker, other workers may hold the work
            # Ingest yields the CPU to people's requests: at nice 10 the kernel gives the web server about nine
            # tenths of a core the two contend for, and the worker all that the web server leaves (README, "Load").
            nice=worker_nice)
        web = ChildProcess("web server", [
            sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", "--config", "python:mediahub.gunicorn_config",
            "--bind", f"{host}:{port}",
            "--workers", str(web_workers), "--threads", "4", "--worker-class", "gthread",
            "--timeout", "300", "--graceful-timeout", str(WEB_GRACE_SECONDS), "--access-logfile", "-",
            "--no-control-socket",  # its default path is per user, shared by every data dir
        ], env)
        return [worker, web]

    def _stop_children(self, children: list[ChildProcess]) -> None:
        running = [child.process for child in children if child.ending() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)  # gunicorn: graceful; celery: warm shutdown
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Unfinished tasks are acknowledged late, so they run again at the next start.
                process.kill()
                process.wait()

    def _greet(self, host: str, port: int) -> None:
        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nmediahub is running at {url}  (Ctrl-C stops everything)"))
        self.stdout.write(f"Data dir: {settings.DATA_DIR}   CLIP model: {settings.CLIP_MODEL}")
        if get_user_model().objects.filter(is_superuser=True).exists():
            self.stdout.write("Sign in with your account; API tokens: .venv/bin/python manage.py create_api_token USERNAME")
        else:
            self.stdout.write(
                "No account yet. In another terminal, create one and sign in with it:\n"
                "  DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_PASSWORD=choose-a-password "
                "DJANGO_SUPERUSER_EMAIL=admin@example.org .venv/bin/python manage.py createsuperuser --noinput")
        self.stdout.write("")
