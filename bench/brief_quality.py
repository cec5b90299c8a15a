"""Brief quality on the test-pattern evaluation library: does each beat find its scene first?

    .venv/bin/python bench/brief_quality.py [--work var/search-quality] [--seed 7]

Uses the library of bench/search_quality.py (12 generated videos, ingested through the real
pipeline with the demo model into a data dir of its own, kept between runs). Every scene of the
library becomes a beat, "a red circle on a blue background" or "蓝色背景上的红色圆形", shuffled into
briefs of 8 beats, each made with `briefs.services.brief_create` (the code POST /api/briefs runs):

- `lines`: one beat per line; `sentences`: the same beats pasted as one paragraph of sentences;
- `pairs`: beats naming only a colour and shape that the library shows twice (on two backgrounds),
  each asked twice in one brief: the assignment should give the two beats the two scenes.

A beat is found when its first result (the board's proposal) overlaps the scene's range by IoU ≥ 0.5.
Everything runs in a transaction rolled back at the end. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.search_quality import demo_library_open  # noqa: E402

BEATS_PER_BRIEF = 8
FOUND_IOU = 0.5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "search-quality")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def found(moment, scene: dict, asset_ids: dict[str, int]) -> bool:
    return (moment is not None and moment.asset.pk == asset_ids[scene["file"]]
            and iou((moment.start, moment.end), (scene["start"], scene["end"])) >= FOUND_IOU)


def brief_run(text: str, expected: list[list[dict]], asset_ids: dict[str, int]) -> dict:
    """Make the brief; per beat whether its proposal is one of its expected scenes."""
    from mediahub.briefs import selectors, services

    started = time.perf_counter()
    brief = services.brief_create(owner=None, text=text)
    board = selectors.brief_board(brief=brief)
    seconds = time.perf_counter() - started
    assert len(board.beats) == len(expected), (text, [b.beat.text for b in board.beats])
    hits = [any(found(beat.choice, scene, asset_ids) for scene in scenes) for beat, scenes in zip(board.beats, expected)]
    searched_first = [any(found(_searched_first(beat), scene, asset_ids) for scene in scenes)
                      for beat, scenes in zip(board.beats, expected)]
    for beat, hit, scenes in zip(board.beats, hits, expected):
        if not hit:
            print(f"missed: {beat.beat.text!r} got {beat.choice.asset.original_filename if beat.choice else None} "
                  f"{beat.choice.start if beat.choice else ''}-{beat.choice.end if beat.choice else ''}, wanted "
                  f"{[(s['file'], s['start'], s['end']) for s in scenes]}", file=sys.stderr)
    return {"hits": hits, "searched_first": searched_first, "chosen": [(b.choice.asset.pk, b.choice.start) if b.choice else None for b in board.beats],
            "shared": [bool(b.shared_with) for b in board.beats], "weak": [b.weak for b in board.beats],
            "seconds": seconds}


def _searched_first(beat):
    """The beat's best result as the search ranked it, before the assignment over beats."""
    return max(beat.results, key=lambda moment: moment.score or 0.0, default=None)


def full_beat(scene: dict, lang: str) -> str:
    from workers.ml.demo import world

    return world.full_caption(scene["shape"], scene["colour"], scene["background"], lang)


def _alike(scene: dict, scenes: list[dict]) -> list[dict]:
    """The scenes a full description of `scene` truly names (the generator can repeat one)."""
    return [other for other in scenes if all(other[k] == scene[k] for k in ("shape", "colour", "background"))]


def briefs_of(items: list, size: int = BEATS_PER_BRIEF) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]


def measure(scenes: list[dict], asset_ids: dict[str, int], rng) -> list[tuple]:
    from workers.ml.demo import world

    rows = []
    for lang in ("en", "zh"):
        order = list(rng.permutation(len(scenes)))
        for layout in ("lines", "sentences"):
            runs = []
            for chunk in briefs_of([scenes[i] for i in order]):
                beats = [full_beat(scene, lang) for scene in chunk]
                if layout == "lines":
                    text = "\n".join(beats)
                elif lang == "en":
                    text = " ".join(beat[0].upper() + beat[1:] + "." for beat in beats)
                else:
                    text = "".join(beat + "。" for beat in beats)
                runs.append(brief_run(text, [_alike(scene, scenes) for scene in chunk], asset_ids))
            rows.append(_row(f"{lang}, {layout}", runs))
        by_pair: dict[tuple[str, str], list[dict]] = {}
        for scene in scenes:
            by_pair.setdefault((scene["shape"], scene["colour"]), []).append(scene)
        pairs = [group for group in by_pair.values() if len(group) == 2]
        rng.shuffle(pairs)
        runs, distinct = [], []
        for chunk in briefs_of(pairs, BEATS_PER_BRIEF // 2):
            names = [(f"a {s['colour']} {s['shape']}" if lang == "en"
                      else f"{world.COLOUR_ZH[s['colour']]}{world.SHAPE_ZH[s['shape']]}") for s, _ in chunk]
            run = brief_run("\n".join(name for name in names for _ in range(2)),
                            [group for group in chunk for _ in range(2)], asset_ids)
            runs.append(run)
            distinct.extend(run["chosen"][i] != run["chosen"][i + 1] and run["hits"][i] and run["hits"][i + 1]
                            for i in range(0, len(run["chosen"]), 2))
        rows.append(_row(f"{lang}, pairs", runs, distinct=sum(distinct) / max(len(distinct), 1)))
    return rows


def _row(label: str, runs: list[dict], distinct: float | None = None) -> tuple:
    hits = [hit for run in runs for hit in run["hits"]]
    searched = [hit for run in runs for hit in run["searched_first"]]
    shared = [s for run in runs for s in run["shared"]]
    weak = [w for run in runs for w in run["weak"]]
    seconds = [run["seconds"] for run in runs]
    return (label, len(runs), len(hits), sum(searched) / len(searched), sum(hits) / len(hits), sum(shared) / len(shared), sum(weak) / len(weak),
            distinct, statistics.median(seconds), max(seconds))


def main() -> None:
    args = parse_args()
    truth = json.loads(demo_library_open(args.work).read_text())
    from django.db import transaction

    from mediahub.assets.models import Asset

    asset_ids = dict(Asset.objects.values_list("original_filename", "id"))
    rows = []
    with transaction.atomic():
        rows = measure(truth["scenes"], asset_ids, np.random.default_rng(args.seed))
        transaction.set_rollback(True)
    print("| beats as | briefs | beats | first by search alone | first on the board | sharing footage | weak "
          "| pairs given both scenes | s per brief p50 | max |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, briefs, beats, searched, hit, shared, weak, distinct, p50, worst in rows:
        print(f"| {label} | {briefs} | {beats} | {searched:.3f} | {hit:.3f} | {shared:.3f} | {weak:.3f} | "
              f"{'' if distinct is None else f'{distinct:.3f}'} | {p50:.2f} | {worst:.2f} |")


if __name__ == "__main__":
    main()
