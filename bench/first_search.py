"""The first search after a web worker starts: cold (the model loads on that search) against warm (the worker
loaded it as it started, mediahub/gunicorn_config.py).

Starts a real gunicorn (one gthread worker, as `manage.py serve` runs it) on a throwaway data dir, --runs
times per model and mode. Cold: the worker started without the config, the first search timed as soon as
health answers. Warm: with the config; health is polled until it says the search model is loaded (that
wait is reported too), then the first search is timed. Nothing is indexed, so a search is the query's
encoding plus the (empty) database work.

    .venv/bin/python bench/first_search.py                         # demo model
    .venv/bin/python bench/first_search.py --model ViT-B-32 --pretrained random

Prints a Markdown table row for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.http_calls import http_get  # noqa: E402
from bench.upload_path import free_port, manage  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--pretrained", default="")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


def health(base: str, server: subprocess.Popen, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited")
        try:
            return json.loads(http_get(base + "/api/health", timeout=5))
        except urllib.error.HTTPError as unhealthy:  # 503 (no broker here): its answer still says how the model is
            return json.loads(unhealthy.read())
        except OSError:  # not listening yet
            time.sleep(0.05)
    raise SystemExit("gunicorn did not answer")


def one_run(env: dict, token: str, *, warm: bool) -> tuple[float, float]:
    """(seconds from start until the model was loaded or the first search could be sent, first search seconds)."""
    base = f"http://127.0.0.1:{free_port()}"
    config = ["--config", "python:mediahub.gunicorn_config"] if warm else []
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "mediahub.wsgi:application", *config, "--bind",
                               base[7:], "--workers", "1", "--threads", "4", "--worker-class", "gthread",
                               "--no-control-socket"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while health(base, server)["search_model"] != ("loaded" if warm else "not_loaded"):
            time.sleep(0.05)
        ready = time.monotonic() - started
        sent = time.monotonic()
        http_get(base + "/api/search", params={"q": "a red circle on a blue background"}, timeout=300,
                 headers={"Authorization": f"Token {token}"})  # an error status raises
        return ready, time.monotonic() - sent
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="mediahub-first-search-"))
    env = {**os.environ, "MEDIAHUB_DATA_DIR": str(data_dir), "MEDIAHUB_CLIP_MODEL": args.model,
           "MEDIAHUB_CLIP_PRETRAINED": args.pretrained, "DJANGO_SETTINGS_MODULE": "mediahub.settings"}
    from mediahub.embedded import Services

    services = Services(data_dir)
    services.attach()
    try:
        manage(data_dir, "migrate", "--noinput", env=env)
        manage(data_dir, "createsuperuser", "--noinput", env={**env, "DJANGO_SUPERUSER_USERNAME": "bench",
                                                              "DJANGO_SUPERUSER_PASSWORD": "bench-password-1",
                                                              "DJANGO_SUPERUSER_EMAIL": "bench@example.org"})
        token = manage(data_dir, "create_api_token", "bench", env=env).splitlines()[-1]
        cold = [one_run(env, token, warm=False) for _ in range(args.runs)]
        warm = [one_run(env, token, warm=True) for _ in range(args.runs)]
    finally:
        services.detach()
        shutil.rmtree(data_dir, ignore_errors=True)
    median = lambda runs, i: statistics.median(run[i] for run in runs)  # noqa: E731
    name = args.model + (f" ({args.pretrained} weights)" if args.pretrained else "")
    print("| model | cold first search | warm first search | worker start → model loaded |")
    print(f"| {name} | {median(cold, 1) * 1000:,.0f} ms | {median(warm, 1) * 1000:,.0f} ms | "
          f"{median(warm, 0):.1f} s |")


if __name__ == "__main__":
    main()
