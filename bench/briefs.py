"""Briefs at scale: how long a 20-beat brief takes to answer, in-process and through the HTTP API.

Uses search_latency.py's synthetic library (per-second 512-d vectors shaped like footage, with
shots and descriptions) in its own embedded Postgres under var/bench-search, and the ViT-B-32
architecture with random weights (the text tower costs what the trained one does). Each brief is
20 newsroom lines (English, or the same lines in Chinese), none seen before by the process, so
every beat's text is encoded.

    .venv/bin/python bench/briefs.py                       # 100,000 seconds of footage
    .venv/bin/python bench/briefs.py --seconds 1000000

In-process it times services.brief_create and the board as POST /api/briefs renders it
(selectors.brief_board + api.brief_json + JSON), with a breakdown: the beats' texts encoded in one
batch, the 20 searches (and their parts), the Beat rows, the board. The first brief of a process
loads the model and is reported apart. Then POST /api/briefs through gunicorn. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search_latency as library  # noqa: E402  (sets up the bench's own data dir and model before Django loads)
from bench.http_calls import http_post_json  # noqa: E402  (search_latency put the repository on the path)

BEATS = 20

SUBJECTS = [("Residents", "居民"), ("Firefighters", "消防员"), ("Police officers", "警察"), ("Volunteers", "志愿者"),
            ("Protesters", "抗议者"), ("Farmers", "农民"), ("Rescue teams", "救援人员"), ("Shoppers", "购物者"),
            ("Commuters", "通勤者"), ("Nurses", "护士"), ("Students", "学生"), ("Workers", "工人"),
            ("Fishermen", "渔民"), ("Children", "孩子们"), ("Soldiers", "士兵"), ("Officials", "官员"),
            ("Engineers", "工程师"), ("Drivers", "司机"), ("Tourists", "游客"), ("Doctors", "医生")]
ACTIONS = [("queue for sandbags", "排队领取沙袋"), ("clear debris", "清理废墟"), ("speak to reporters", "接受记者采访"),
           ("march with banners", "举着标语游行"), ("carry supplies", "搬运物资"), ("wade through flood water", "涉水前行"),
           ("inspect damaged houses", "检查受损的房屋"), ("hand out food and water", "分发食物和饮用水"),
           ("put up emergency tents", "搭建临时帐篷"), ("evacuate families", "疏散家庭"), ("fight a large fire", "扑灭大火"),
           ("wait for buses", "等待公交车"), ("count ballots", "清点选票"), ("repair power lines", "修复电线"),
           ("unload cargo", "卸下货物"), ("hold a press conference", "举行新闻发布会"),
           ("hold a candlelight vigil", "举行烛光守夜"), ("treat the injured", "救治伤员"),
           ("reinforce the levee", "加固堤坝"), ("watch the fireworks", "观看烟花表演")]
PLACES = [("near the main bridge", "在主桥附近"), ("outside the town hall", "在市政厅外"), ("in the harbour", "在港口"),
          ("along the river bank", "在河岸边"), ("at the railway station", "在火车站"), ("outside the hospital", "在医院门口"),
          ("in the central square", "在中心广场"), ("in the school playground", "在学校操场上"),
          ("on the motorway", "在高速公路上"), ("in the market", "在市场里"), ("on the beach", "在海滩上"),
          ("in front of parliament", "在议会大楼前"), ("inside the factory", "在工厂里"), ("at the airport", "在机场"),
          ("on the hillside", "在山坡上"), ("at the crossroads", "在十字路口"), ("in the stadium", "在体育场"),
          ("at the village entrance", "在村口"), ("on the pier", "在码头"), ("in the metro station", "在地铁站")]
WHEN = [("", ""), (" at dawn", "清晨"), (" in heavy rain", "冒着大雨"), (" late at night", "深夜"), (" after the storm", "暴风雨过后")]


def brief_texts(count: int, *, seed: int) -> list[tuple[str, str]]:
    """`count` briefs of BEATS lines each, in English and the same lines in Chinese; no line repeats."""
    rng = np.random.default_rng(seed)
    combinations = rng.permutation(len(SUBJECTS) * len(ACTIONS) * len(PLACES))[:count * BEATS]
    briefs = []
    for b in range(count):
        english, chinese = [], []
        for c in combinations[b * BEATS:(b + 1) * BEATS]:
            c, subject = divmod(int(c), len(SUBJECTS))
            c, action = divmod(c, len(ACTIONS))
            subject, action, place = SUBJECTS[subject], ACTIONS[action], PLACES[c]
            when = WHEN[int(rng.integers(len(WHEN)))]
            english.append(f"{subject[0]} {action[0]} {place[0]}{when[0]}.")
            chinese.append(f"{when[1]}，{subject[1]}{place[1]}{action[1]}。" if when[1] else f"{subject[1]}{place[1]}{action[1]}。")
        briefs.append(("\n".join(english), "\n".join(chinese)))
    return briefs


class Stopwatch:
    """Wraps functions where they are looked up and adds up their wall time per label for one brief."""

    def __init__(self):
        self.spent: dict[str, float] = defaultdict(float)
        self._inside_search = 0

    def wrap(self, owner, name: str, label: str, *, outside_search_only: bool = False, marks_search: bool = False):
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if outside_search_only and self._inside_search:
                return original(*args, **kwargs)
            self._inside_search += marks_search
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - started
                self._inside_search -= marks_search

        setattr(owner, name, timed)  # for the rest of the process: the bench measures nothing else after

    @contextlib.contextmanager
    def measure(self, label: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.spent[label] += time.perf_counter() - started

    def reset(self) -> dict[str, float]:
        spent, self.spent = dict(self.spent), defaultdict(float)
        return spent


# (label, what it covers): the parts of brief_create + the board, then the parts of one beat's search.
PARTS = [("encode", "the beats' texts, one batch (text tower)"),
         ("searches", "the 20 searches, each as GET /api/search"),
         ("beat rows", "Beat.objects.bulk_create"),
         ("rest of create", "validation, beat split, Brief row, reads shared by the searches, commit"),
         ("board", "selectors.brief_board (assets + assignment)"),
         ("json", "api.brief_json + JSONRenderer")]
SEARCH_PARTS = [("ann", "HNSW pass (ann_candidates)"), ("exact", "exact windows (exact_scores_in)"),
                ("shots", "shots_in_windows"), ("title match", "text_matches"),
                ("descriptions", "shot_description_matches"), ("assets", "search_assets_with_people"),
                ("moments", "moments_from_scores"), ("tags", "tags_named_in + tag_coverage"),
                ("refine", "query_refine (session feedback)"), ("feedback", "feedback_near"),
                ("background", "query_background"), ("store", "Search row"), ("model row", "search_model")]


def stopwatch_install() -> Stopwatch:
    from mediahub.briefs import models, selectors as brief_selectors
    from mediahub.search import selectors, services

    watch = Stopwatch()
    watch.wrap(selectors, "text_query_vectors", "encode", outside_search_only=True)
    watch.wrap(services, "text_search", "searches", marks_search=True)
    watch.wrap(models.Beat.objects, "bulk_create", "beat rows")
    watch.wrap(brief_selectors, "brief_board", "board")
    # Parts of a search, where services and selectors look them up.
    watch.wrap(selectors, "ann_candidates", "ann")
    watch.wrap(selectors, "exact_scores_in", "exact")
    watch.wrap(selectors, "shots_in_windows", "shots")
    watch.wrap(selectors, "text_matches", "title match")
    watch.wrap(selectors, "shot_description_matches", "descriptions")
    watch.wrap(selectors, "search_assets_with_people", "assets")
    watch.wrap(services, "moments_from_scores", "moments")
    watch.wrap(services, "tags_named_in", "tags")
    watch.wrap(services, "tag_coverage", "tags")
    watch.wrap(services, "query_refine", "refine")
    watch.wrap(services, "feedback_near", "feedback")
    watch.wrap(services, "query_background", "background")
    watch.wrap(services, "_search_store", "store")
    watch.wrap(services, "search_model", "model row")
    return watch


def answer_in_process(watch: Stopwatch, *, user, text: str) -> tuple[float, float, dict[str, float]]:
    """One POST /api/briefs without HTTP: (create ms, whole answer ms, parts in ms)."""
    from django.test import RequestFactory
    from rest_framework.renderers import JSONRenderer

    from mediahub.briefs import api, services

    request = RequestFactory().post("/api/briefs", HTTP_HOST="localhost")
    request.user = user
    started = time.perf_counter()
    brief = services.brief_create(owner=user, text=text)
    created = time.perf_counter()
    with watch.measure("json"):
        body = JSONRenderer().render(api.brief_json(request, brief))
    finished = time.perf_counter()
    assert len(brief.beats.all()) == BEATS and body
    parts = {label: 1000 * seconds for label, seconds in watch.reset().items()}
    parts["json"] -= parts.get("board", 0.0)
    parts["rest of create"] = 1000 * (created - started) - sum(parts.get(k, 0.0) for k in ("encode", "searches", "beat rows"))
    return 1000 * (created - started), 1000 * (finished - started), parts


def in_process_table(briefs: list[tuple[str, str]]) -> None:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    watch = stopwatch_install()
    first_text = "\n".join(f"Warm-up beat {i}: crowds gather near the bridge." for i in range(BEATS))
    _, first_answer, first_parts = answer_in_process(watch, user=user, text=first_text)
    print(f"first brief of the process (loads the text model, draws the background sample): {first_answer:,.0f} ms"
          f" (encode {first_parts['encode']:,.0f} ms, searches {first_parts['searches']:,.0f} ms)\n")
    rows = []
    for language, column in (("English", 0), ("Chinese", 1)):
        runs = [answer_in_process(watch, user=user, text=brief[column]) for brief in briefs]
        rows.append((language, runs))
    print(f"| {BEATS}-beat brief, in-process | briefs | create p50 / p95 / max ms | answer (create + board + JSON)"
          f" p50 / p95 / max ms |")
    print("|---|---|---|---|")
    for language, runs in rows:
        creates, answers = [r[0] for r in runs], [r[1] for r in runs]
        print(f"| {language} | {len(runs)} | {_three(creates)} | {_three(answers)} |")
    print()
    print("| part (median ms per brief) | " + " | ".join(language for language, _ in rows) + " | what |")
    print("|---|" + "---|" * len(rows) + "---|")
    for label, what in PARTS + [("", "")] + SEARCH_PARTS:
        if not label:
            print("| *of the searches:* |" + " |" * len(rows) + " |")
            continue
        medians = [float(np.median([r[2].get(label, 0.0) for r in runs])) for _, runs in rows]
        print(f"| {label} | " + " | ".join(f"{m:,.0f}" if m >= 10 else f"{m:.1f}" for m in medians) + f" | {what} |")
    print()


def _three(values: list[float]) -> str:
    return f"{library._pct(values, 50):,.0f} / {library._pct(values, 95):,.0f} / {max(values):,.0f}"


def api_table(briefs: list[tuple[str, str]]) -> None:
    # One user sends every request: lift the per-user brief and search throttles for the measurement.
    with library.api_server(env={"MEDIAHUB_BRIEF_RATE": "1000000/minute",
                                 "MEDIAHUB_SEARCH_RATE": "1000000/minute"}) as (base, headers):
        warm = "\n".join(f"Warm-up beat {i}: smoke over the harbour." for i in range(BEATS))
        started = time.perf_counter()
        http_post_json(base + "/api/briefs", {"text": warm}, headers=headers, timeout=300)  # an error status raises
        print(f"POST /api/briefs, first request of the server (loads the text model): "
              f"{1000 * (time.perf_counter() - started):,.0f} ms\n")
        print(f"| POST /api/briefs ({BEATS} beats) through gunicorn | briefs | p50 / p95 / max ms | response bytes |")
        print("|---|---|---|---|")
        for language, column in (("English", 0), ("Chinese", 1)):
            timings, sizes = [], []
            for brief in briefs:
                started = time.perf_counter()
                body = http_post_json(base + "/api/briefs", {"text": brief[column]}, headers=headers, timeout=120)
                timings.append(1000 * (time.perf_counter() - started))
                assert len(json.loads(body)["beats"]) == BEATS
                sizes.append(len(body))
            print(f"| {language} | {len(timings)} | {_three(timings)} | {int(np.median(sizes)):,} |")
        print()


def default_tower_table(repeats: int = 5) -> None:
    """The default multilingual model's text tower (xlm-roberta-base-ViT-B-32: XLM-RoBERTa base through
    open_clip's HFTextEncoder) encoding a brief's beats, with random weights and made-up token ids (its
    config and tokenizer are downloads), padded to the 77-token context as open_clip's HF tokenizer
    pads and cut at the longest beat. The lengths are assumptions: a newsroom sentence is about 15-25
    of XLM-R's sentencepiece tokens in English or Chinese."""
    import torch
    from open_clip.hf_model import HFTextEncoder
    from transformers import XLMRobertaConfig

    from workers.ml.clip import encode_text_unpadded

    config = XLMRobertaConfig(vocab_size=250_002, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
                              bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)  # xlm-roberta-base's
    tower = HFTextEncoder("xlm-roberta-base", output_dim=512, config=config, pooler_type="mean_pooler",
                          proj_type="mlp").eval()

    class Tower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text = tower

        def encode_text(self, tokens, normalize=False):
            return torch.nn.functional.normalize(self.text(tokens), dim=-1)

    model, rng = Tower(), np.random.default_rng(3)
    torch.set_num_threads(1)  # as queries are encoded (search.selectors.QUERY_ENCODING_THREADS)
    print(f"| default model's text tower (XLM-R base, random), {BEATS} beats | median ms of {repeats} |")
    print("|---|---|")
    for length in (20, 30):
        tokens = torch.full((BEATS, 77), 1)
        for row in range(BEATS):
            used = int(rng.integers(length // 2, length + 1))
            tokens[row, :used] = torch.from_numpy(rng.integers(5, 250_000, used))
            tokens[row, 0], tokens[row, used - 1] = 0, 2
        for label, run in ((f"padded to 77 (longest beat {length} tokens)", model.encode_text),
                           (f"cut at the longest beat ({length} tokens)", lambda t: encode_text_unpadded(model, t))):
            timings = []
            with torch.inference_mode():
                for _ in range(repeats):
                    started = time.perf_counter()
                    run(tokens)
                    timings.append(1000 * (time.perf_counter() - started))
            print(f"| {label} | {np.median(timings):,.0f} |")
    print()


def index_ready(model) -> None:
    """Build the HNSW index as search_latency.py does, unless it is there (a fresh load drops it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [model.index_name])
        if cursor.fetchone():
            return
    name, seconds, size = library.build_index(model, m=16, ef_construction=64, halfvec=True)
    print(f"built {name} in {seconds:.0f} s ({size / 2**20:.0f} MiB)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=100_000, help="seconds of footage (vectors) to load")
    parser.add_argument("--briefs", type=int, default=10, help="briefs per language")
    parser.add_argument("--reload", action="store_true", help="drop and reload the synthetic library")
    parser.add_argument("--skip-api", action="store_true", help="only the in-process figures")
    parser.add_argument("--default-tower", action="store_true",
                        help="only time the default multilingual model's text tower on a brief's beats")
    args = parser.parse_args()
    if args.default_tower:
        default_tower_table()
        return
    model, _ = library.library_open(args.seconds, args.reload)
    index_ready(model)
    print(f"\n{args.seconds:,} seconds of footage, {BEATS}-beat briefs (default 5 results per beat)\n")
    # Different texts in-process and through HTTP, so no process has seen a beat before.
    briefs = brief_texts(2 * args.briefs, seed=17)
    in_process_table(briefs[:args.briefs])
    if not args.skip_api:
        api_table(briefs[args.briefs:])


if __name__ == "__main__":
    main()
