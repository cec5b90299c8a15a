"""gunicorn's settings for mediahub's web server: `make run` (manage.py serve) and the production command
(README, "Production") both start gunicorn with `-c python:mediahub.gunicorn_config`.

Each web worker loads the search model in a thread of its own as soon as it has started, so the first
search after a start doesn't wait seconds for it; the worker serves requests meanwhile (a search arriving
mid-load waits for that same load) and /api/health says how far it is.

/metrics (mediahub.ops.metrics) sums the web workers' counters with prometheus_client's multiprocess mode:
each worker writes its own files into PROMETHEUS_MULTIPROC_DIR (the data dir's run/prometheus unless set),
which the master empties as it starts (figures of an earlier run would be counted again) and sets for the
workers it forks; a worker that exits has its live gauges dropped.
"""

import os
import shutil
import threading
from pathlib import Path


def on_starting(server):
    """In the master, before it forks: the data dir and its secret key first (without MEDIAHUB_SECRET_KEY,
    the settings read the key from there, so sessions outlive a restart), then the metrics folder."""
    from mediahub import launch

    launch.data_dir_prepare(launch.data_dir_from_environment())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    from django.conf import settings

    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.PROMETHEUS_MULTIPROC_DIR)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # before any worker imports prometheus_client


def post_worker_init(worker):
    from mediahub.search.selectors import text_model_warm

    threading.Thread(target=text_model_warm, name="search-model-warm", daemon=True).start()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
