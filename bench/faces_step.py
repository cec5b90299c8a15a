"""What the faces step costs next to the CLIP step, on a 60 s 1280×720 video of real face photos.

The video (PyAV, H.264, 25 fps) shows dlib's example photos of the Johns and scikit-image's
astronaut on grey and textured backgrounds in six 10 s shots: still shots, slowly panning shots
(the "moving" path of the schedule), a face that comes in mid-shot, a group photo of three, a shot
without faces. A second video ("crowd") has dlib's bald_guys.jpg (24 faces) instead of the group
of three. It times, on the reference machine:

  - sample_video without and with face frames (face_short_side=1080): the added decode/scale cost,
    for the 720p video and the same video at 1920×1080;
  - scan_faces on the face frames (models loaded beforehand, as in a worker);
  - the CLIP step: open_clip ViT-B-32 (pretrained=None: the same compute as the real weights)
    encode_image on the 60 sampled 224-px frames;

each the best of `--runs`, faces and CLIP alternating, with two threads each and with one thread
each (the machine is shared: one-thread times are disturbed much less by other processes).

    .venv/bin/python bench/faces_step.py [--skip-1080] [--runs 3]

Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def shots(k: float, *, crowd: bool = False):
    """60 s in six shots (five cuts) for a 1280×720 picture scaled by k (1.5 for 1080p); with `crowd`,
    the group photo of three is replaced by dlib's bald_guys.jpg (24 faces of 54–133 px)."""
    from PIL import Image

    from tests.media_files import JOHNS, PhotoShot, astronaut_photo, john_photo

    def at(x, y):
        return round(x * k), round(y * k)

    def px(size):
        return round(size * k)

    astronaut = astronaut_photo()
    group = Image.open(REPO / "tests/data/faces" / ("bald_guys.jpg" if crowd else "2008_002506.jpg")).convert("RGB")
    return [
        PhotoShot(10, ((john_photo(JOHNS[0], 0), at(415, 135), px(450), 0),)),
        PhotoShot(10, ((john_photo(JOHNS[1], 0), at(200, 200), px(300), 0), (astronaut, at(700, 150), px(360), 0)),
                  background="texture", pan=(px(12), px(2)), seed=1),
        PhotoShot(10, ((group, at(175 if crowd else 160, 0), px(720), 0),), background="texture", pan=(0, px(3)), seed=3),
        PhotoShot(10, ((john_photo(JOHNS[2], 0), at(150, 180), px(375), 0), (astronaut, at(750, 200), px(300), 5)),
                  background="texture", pan=(px(10), 0), seed=2),
        PhotoShot(10, ((john_photo(JOHNS[4], 0), at(150, 150), px(300), 0), (john_photo(JOHNS[0], 5), at(800, 250), px(300), 0))),
        PhotoShot(10, (), background="texture", pan=(px(20), 0), seed=5),
    ]


def timed_sampling(path: Path, face_short_side: int | None) -> tuple[float, list]:
    from workers.media.frames import sample_video

    started = time.perf_counter()
    frames = list(sample_video(path, face_short_side=face_short_side))
    return time.perf_counter() - started, frames


class Clip:
    def __init__(self):
        import open_clip

        self.model, _, self.preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
        self.model.eval()

    def seconds(self, images, *, threads: int = 2) -> float:
        import torch

        torch.set_num_threads(threads)
        with torch.inference_mode():
            started = time.perf_counter()
            for start in range(0, len(images), 32):
                self.model.encode_image(torch.stack([self.preprocess(image) for image in images[start:start + 32]]))
        return time.perf_counter() - started


def faces_seconds(frames, source_size, *, threads: int = 2) -> tuple[float, float, dict, list]:
    """Wall and CPU seconds of scan_faces on the face frames."""
    from workers.ml.faces import scan_faces

    stats: dict = {}
    cpu = _cpu()
    started = time.perf_counter()
    tracks = scan_faces([(f.time, f.face_image) for f in frames], source_size=source_size, stats=stats,
                        threads=threads)
    return time.perf_counter() - started, _cpu() - cpu, stats, tracks


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-1080", action="store_true", help="only the 720p videos")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each step (the best counts)")
    args = parser.parse_args()
    from tests.media_files import write_photo_video
    from workers.ml.faces import load_face_models

    load_face_models().warm(4)  # a worker loads them once per process
    clip = Clip()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        cases = [(1280, 720, False), (1280, 720, True)] + ([] if args.skip_1080 else [(1920, 1080, False)])
        for width, height, crowd in cases:
            path = write_photo_video(Path(scratch) / f"faces_{height}p.mp4", shots(width / 1280, crowd=crowd),
                                     width=width, height=height, fps=25)
            # The machine is shared: every figure is the best of `runs`, faces and CLIP alternating.
            plain = min(timed_sampling(path, None)[0] for _ in range(args.runs))
            with_faces, frames = min((timed_sampling(path, 1080) for _ in range(args.runs)), key=lambda r: r[0])
            faces_runs, clip_runs = [], []
            for _ in range(args.runs):
                faces_runs.append(faces_seconds(frames, (width, height)))
                clip_runs.append(clip.seconds([f.image for f in frames]))
            wall, cpu, stats, tracks = min(faces_runs, key=lambda r: r[0])
            clip_wall = min(clip_runs)
            # One thread each: CPU seconds that other processes on the machine disturb much less.
            faces_one = min(faces_seconds(frames, (width, height), threads=1)[0] for _ in range(args.runs))
            clip_one = min(clip.seconds([f.image for f in frames], threads=1) for _ in range(args.runs))
            rows.append((f"{width}×{height}" + (", crowd" if crowd else ""), len(frames), plain, with_faces, wall, cpu,
                         clip_wall, stats, tracks, faces_one, clip_one))
            print(f"{height}p{' crowd' if crowd else ''}: {len(tracks)} tracks", file=sys.stderr)
            for track in tracks:
                print(f"  {track.start:5.1f}–{track.end:5.1f} s box {track.box} sightings {len(track.sightings)} "
                      f"described {len(track.described)}", file=sys.stderr)

    print("| video | sampling s, without → with face frames (added per frame) | full / local / still scans, "
          "descriptors, tracks | faces step, 2 threads: wall s (CPU s) | CLIP step, 2 threads: wall s "
          "| faces, 1 thread s | CLIP, 1 thread s |")
    print("|---|---|---|---|---|---|---|")
    for size, count, plain, with_faces, wall, cpu, clip_wall, stats, tracks, faces_one, clip_one in rows:
        print(f"| {size}, 60 s | {plain:.2f} → {with_faces:.2f} ({(with_faces - plain) / count * 1000:.0f} ms) "
              f"| {stats['full']} / {stats['local']} / {stats['still']}, {stats['described']}, {len(tracks)} "
              f"| **{wall:.2f}** ({cpu:.2f}) | **{clip_wall:.2f}** | **{faces_one:.2f}** | **{clip_one:.2f}** |")


if __name__ == "__main__":
    main()
