"""gunicorn's settings for mediahub's web server: `make run` (manage.py serve) and the production command
(README, "Production") both start gunicorn with `-c python:mediahub.gunicorn_config`.

Each web worker loads the search model in a thread of its own as soon as it has started, so the first
search after a start doesn't wait seconds for it; the worker serves requests meanwhile (a search arriving
mid-load waits for that same load) and /api/health says how far it is.
"""

import threading


def on_starting(server):
    """The master makes the data dir and its secret key before forking, so every web worker signs sessions
    with the same key when MEDIAHUB_SECRET_KEY is unset (each would make up its own otherwise)."""
    from mediahub import launch

    launch.data_dir_prepare(launch.data_dir_from_environment())


def post_worker_init(worker):
    from mediahub.search.selectors import text_model_warm

    threading.Thread(target=text_model_warm, name="search-model-warm", daemon=True).start()
