"""The load scenario of bench/load.py: people searching, opening assets, playing media and uploading at once.

bench/load.py prepares the library, the accounts and the upload files, starts the server and runs this file
with Locust's headless mode, one phase at a time; the phase comes in through the environment:

    LOAD_CONFIG     a JSON file: accounts (username, password, token), ready asset ids, upload files
    LOAD_SEARCHERS, LOAD_VIEWERS, LOAD_PLAYERS, LOAD_UPLOADERS   how many users of each kind

Every user has an account of its own (a person per browser), so the per-user throttles apply as they would.
Think times are a person's: a searcher reads a page of results for a few seconds before the next query.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time

from locust import FastHttpUser, HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read()) if os.environ.get("LOAD_CONFIG") else {}
_next = itertools.count()
_lock = threading.Lock()

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "diamond"]
COLOURS_ZH = ["红色", "绿色", "蓝色", "黄色", "紫色", "橙色", "白色", "黑色"]
SHAPES_ZH = ["圆形", "正方形", "三角形", "星形", "十字", "菱形"]
NEWS_WORDS = ["flood", "bridge", "crowd", "fire", "night", "river", "car", "minister", "storm", "harbour", "protest",
              "mayor", "podium", "police", "school", "train", "market", "airport"]


def _account(kind: str) -> dict:
    """The next unused account of `kind` ("searchers", "editors": uploaders need the editor role)."""
    with _lock:
        accounts = CONFIG["accounts"][kind]
        return accounts[next(_next) % len(accounts)]


def text_query(rng: random.Random) -> str:
    """What newsroom people type: the demo world's colours and shapes (English and Chinese), news words."""
    roll = rng.random()
    if roll < 0.35:
        return f"a {rng.choice(COLOURS)} {rng.choice(SHAPES)}"
    if roll < 0.5:
        return f"a {rng.choice(COLOURS)} {rng.choice(SHAPES)} on a {rng.choice(COLOURS)} background"
    if roll < 0.7:
        return f"{rng.choice(COLOURS_ZH)}{rng.choice(SHAPES_ZH)}"
    return " ".join(rng.sample(NEWS_WORDS, rng.randint(2, 4)))


def search_filters(rng: random.Random) -> dict:
    """Most searches have no filter; some narrow by kind, date, source or rights."""
    roll = rng.random()
    if roll < 0.7:
        return {}
    return rng.choice([{"kind": "video"}, {"after": "2026-06-01"}, {"before": "2026-03-31"},
                       {"source": rng.choice(CONFIG.get("sources", ["Reuters"]))}, {"rights": "cleared"}])


class Viewer(FastHttpUser):
    """A person with the viewer role (every role searches, opens and plays), through an account of their own."""

    abstract = True

    def on_start(self):
        self.rng = random.Random()
        self.headers = {"Authorization": f"Token {_account('searchers')['token']}"}


class Searcher(Viewer):
    """Searches through the API and the search page (with a second page of results now and then)."""

    wait_time = between(3, 10)
    fixed_count = int(os.environ.get("LOAD_SEARCHERS", "0"))

    @task(3)
    def api_search(self):
        params = {"q": text_query(self.rng), "limit": self.rng.choice([20, 20, 50]), **search_filters(self.rng)}
        self.client.get("/api/search", params=params, headers=self.headers, name="/api/search")

    @task(1)
    def page_search(self):
        params = {"q": text_query(self.rng), **search_filters(self.rng)}
        self.client.get("/search/", params=params, headers=self.headers, name="/search/ (page)")
        if self.rng.random() < 0.3:
            self.client.get("/search/", params={**params, "page": 2}, headers=self.headers,
                            name="/search/ (page 2)")


class AssetOpener(Viewer):
    """Opens assets: the page, the API answer, its shots and its thumbnail."""

    wait_time = between(2, 6)
    fixed_count = int(os.environ.get("LOAD_VIEWERS", "0"))

    @task
    def open_asset(self):
        asset = self.rng.choice(CONFIG["assets"])
        self.client.get(f"/assets/{asset}/", headers=self.headers, name="/assets/[id]/ (page)")
        self.client.get(f"/api/assets/{asset}", headers=self.headers, name="/api/assets/[id]")
        self.client.get(f"/api/assets/{asset}/shots", headers=self.headers, name="/api/assets/[id]/shots")
        self.client.get(f"/assets/{asset}/thumbnail.jpg", headers=self.headers, name="/assets/[id]/thumbnail.jpg")


class Player(Viewer):
    """Plays an asset as a browser's player does: ranged GETs of the media, a second or two apart, and seeks."""

    wait_time = between(1, 3)
    fixed_count = int(os.environ.get("LOAD_PLAYERS", "0"))
    RANGE_BYTES = 512 * 1024

    def on_start(self):
        super().on_start()
        self._play_new()

    def _play_new(self):
        self.asset = self.rng.choice(CONFIG["assets"])
        self.offset = 0

    @task
    def next_range(self):
        end = self.offset + self.RANGE_BYTES - 1
        with self.client.get(f"/assets/{self.asset}/media", headers={**self.headers, "Range": f"bytes={self.offset}-{end}"},
                             name="/assets/[id]/media (range)", catch_response=True) as response:
            if response.status_code != 206:
                response.failure(f"expected 206 Partial Content, got {response.status_code}")
                return
            match = re.match(r"bytes \d+-(\d+)/(\d+)", response.headers.get("content-range", ""))
            last, size = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        roll = self.rng.random()
        if last + 1 >= size or roll < 0.1:
            self._play_new()  # played to the end, or went to another asset
        elif roll < 0.25:
            self.offset = self.rng.randrange(0, size)  # a seek
        else:
            self.offset = last + 1


class Uploader(HttpUser):
    """An editor uploading one file after another, each once the last is ready: an ingest runs throughout.
    "INGEST upload → ready" in the table is the time from the upload's answer to the asset being ready."""

    wait_time = between(0.5, 1.5)
    fixed_count = int(os.environ.get("LOAD_UPLOADERS", "0"))
    POLL_SECONDS = 1.0

    def on_start(self):
        self.headers = {"Authorization": f"Token {_account('editors')['token']}"}
        # As a browser does, a GET that finds its kept-alive connection closed by the server (gunicorn closes idle
        # ones after 2 s, a poll may cross that moment) is sent once more on a new connection.
        retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET"}, raise_on_status=False)
        self.client.mount("http://", HTTPAdapter(max_retries=retry))

    @task
    def upload_and_wait(self):
        path = _next_upload()
        if path is None:
            return
        # On a new connection: a kept-alive one may be closed by the server (idle 2 s) as the upload starts, which
        # a browser survives by sending again and a POST here must not (the retry above is for GETs only).
        self.client.close()
        with open(path, "rb") as handle:
            response = self.client.post("/api/assets", files={"file": (os.path.basename(path), handle, "video/mp4")},
                                        headers=self.headers, name="/api/assets (upload)")
        if response.status_code != 201:
            return
        asset, started = response.json()["id"], time.perf_counter()
        while True:
            time.sleep(self.POLL_SECONDS)
            answer = self.client.get(f"/api/assets/{asset}", headers=self.headers, name="/api/assets/[id] (upload status)")
            status = answer.json().get("status") if answer.status_code == 200 else None
            if status in ("ready", "failed"):
                break
        events.request.fire(request_type="INGEST", name="upload → ready", response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, context={},
                            exception=None if status == "ready" else RuntimeError(answer.json().get("error")))


def _next_upload() -> str | None:
    """Each file once (bytes identical to an existing asset's are not ingested again): bench/load.py hands
    every phase files no earlier phase uploaded."""
    with _lock:
        uploads = CONFIG.get("uploads", [])
        return uploads.pop(0) if uploads else None
