"""`make run`: everything in the foreground until Ctrl-C.

Embedded Postgres and Redis (unless DATABASE_URL / REDIS_URL point elsewhere)
are attached by manage.py before this command runs; it migrates, starts one
Celery worker (with the beat scheduler for housekeeping) and a gunicorn web
server as child processes, and on SIGINT/SIGTERM stops the children, then the
embedded services, so nothing outlives it.

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

from mediahub.assets.services import assets_resume_incomplete
from mediahub.launch import instance_register
from workers.celery import QUEUES
from workers.pipeline import pipeline_purge

WEB_GRACE_SECONDS = 10  # gunicorn's graceful timeout for requests in flight
STOP_GRACE_SECONDS = WEB_GRACE_SECONDS + 10  # ours covers theirs
_PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when `serve` dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run the web server and a Celery worker (and embedded Postgres/Redis) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("MEDIAHUB_BIND", "127.0.0.1"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("MEDIAHUB_WEB_WORKERS", "2")))
        parser.add_argument("--concurrency", type=int,
                            default=int(os.environ.get("MEDIAHUB_WORKER_CONCURRENCY", str(min(2, os.cpu_count() or 1)))))

    def handle(self, *args, port: int, host: str, web_workers: int, concurrency: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is migrated.")
        if not os.environ.get("REDIS_URL"):  # our own broker, no worker attached yet
            pipeline_purge()
            resumed = assets_resume_incomplete()
            if resumed:
                self.stdout.write(f"Resumed processing of {resumed} unfinished asset(s).")
        children = self._start_children(port=port, host=host, web_workers=web_workers, concurrency=concurrency)
        stopping = {"signal": None}

        def request_stop(signum, frame):
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        self._greet(host, port)
        registration = instance_register(data_dir=settings.DATA_DIR, url=f"http://{host}:{port}/")
        exit_code = 0
        while stopping["signal"] is None:
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                self.stderr.write(f"The {' and '.join(dead)} stopped unexpectedly; shutting down (see the log above).")
                exit_code = 1
                break
            time.sleep(0.5)
        self.stdout.write("Stopping mediahub…")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        self._stop_children(children)
        registration.unlink(missing_ok=True)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _child_env(self) -> dict:
        env = dict(os.environ)
        env.update(DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL,
                   MEDIAHUB_DATA_DIR=str(settings.DATA_DIR), DJANGO_SETTINGS_MODULE="mediahub.settings")
        env.setdefault("MEDIAHUB_LOG_FORMAT", "plain")  # a person reads `make run`'s terminal (README, "Logs")
        return env

    def _start_children(self, *, port: int, host: str, web_workers: int, concurrency: int) -> dict:
        env = self._child_env()
        own_session = {"env": env, "start_new_session": True, "preexec_fn": _stop_with_parent}
        worker = subprocess.Popen([
            sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", ",".join(QUEUES),
            "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", f"mediahub-{os.getpid()}@%h",
            "--beat", "--schedule", str(settings.DATA_DIR / "run" / "celerybeat-schedule"),
        ], **own_session)
        web = subprocess.Popen([
            sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", "--config", "python:mediahub.gunicorn_config",
            "--bind", f"{host}:{port}",
            "--workers", str(web_workers), "--threads", "4", "--worker-class", "gthread",
            "--timeout", "300", "--graceful-timeout", str(WEB_GRACE_SECONDS), "--access-logfile", "-",
            "--no-control-socket",  # its default path is per user, shared by every data dir
        ], **own_session)
        return {"celery worker": worker, "web server": web}

    def _stop_children(self, children: dict) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)  # gunicorn: graceful; celery: warm shutdown
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Unfinished tasks are acknowledged late, so they run again at the next start.
                child.kill()
                child.wait()

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
