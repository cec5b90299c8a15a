"""`manage.py train_captioner CORPUS`: a captioner for the active CLIP model (the demo model here),
saved in the data dir, where captioner_for finds it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mediahub.search.selectors import active_clip_spec
from mediahub.shots.captioning import captioner_for, captioner_path, describer_method
from workers.ml.captioner import BUNDLED_DEMO_PATH, CaptionerUnavailable

CORPUS = """a red circle on a blue background
a green square on a white background

蓝色背景上的红色圆形
白色背景上的绿色正方形
a red circle on a blue background
"""


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def train(*args) -> str:
    out = StringIO()
    call_command("train_captioner", *map(str, args), stdout=out)
    return out.getvalue()


def test_the_command_trains_for_the_active_model_and_captioner_for_finds_it(data_dir, tmp_path):
    spec = active_clip_spec()
    assert captioner_for(spec).memory["en"].shape[0] == 336  # before: the bundled demo captioner
    corpus = tmp_path / "captions.txt"
    corpus.write_text(CORPUS, encoding="utf-8")

    out = train(corpus, "--steps", 5)

    path = captioner_path(spec)
    assert path.is_file() and path.is_relative_to(data_dir / "captioners")
    assert "4 captions (2 en, 2 zh)" in out and "step 5/5" in out and f"Saved the captioner for {spec.key} to {path}" in out
    found = captioner_for(spec.key)
    assert found.clip_key == spec.key
    assert {lang: len(v) for lang, v in found.memory.items()} == {"en": 2, "zh": 2}


def test_epochs_set_the_number_of_steps(data_dir, tmp_path):
    corpus = tmp_path / "captions.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = train(corpus, "--epochs", 32, "--batch", 16)  # 32 passes over 4 captions, 16 at a time
    assert "8 steps" in out and "step 8/8" in out


def test_a_missing_or_empty_corpus_is_refused_with_a_sentence(data_dir, tmp_path):
    with pytest.raises(CommandError, match="No corpus file at"):
        train(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(CommandError, match="has no caption in it"):
        train(empty)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café crème\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        train(latin1)
    assert not captioner_path(active_clip_spec()).exists()


def test_a_damaged_captioner_in_the_data_dir_is_reported_not_skipped(data_dir):
    path = captioner_path(active_clip_spec())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a safetensors file")
    path.with_suffix(".json").write_text(BUNDLED_DEMO_PATH.with_suffix(".json").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    with pytest.raises(CaptionerUnavailable, match="can't be read"):
        captioner_for(active_clip_spec())


def test_a_real_model_uses_the_captioner_once_one_is_trained_for_it(data_dir):
    key = "xlm-roberta-base-ViT-B-32@laion5b_s13b_b90k"
    assert describer_method(key) == "grammar"
    captioner_path(key).parent.mkdir(parents=True)
    captioner_path(key).write_bytes(BUNDLED_DEMO_PATH.read_bytes())
    assert describer_method(key) == "captioner"
    assert describer_method(active_clip_spec()) == "grammar"  # the demo model: the grammar measured better


def test_the_descriptions_step_uses_a_captioner_trained_for_a_real_model_and_says_so(db, data_dir, tmp_path, settings):
    from workers.ml.clip import RANDOM_WEIGHTS
    from workers.tasks import shot_describer

    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "ViT-B-32", RANDOM_WEIGHTS  # a real architecture, offline
    spec = active_clip_spec()
    assert shot_describer(spec, 0.2).__class__.__name__ == "Describer"  # no captioner yet: the grammar
    corpus = tmp_path / "captions.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    out = train(corpus, "--steps", 2)
    assert "Shots processed from now on are described by it" in out
    assert shot_describer(spec, 0.2).clip_key == spec.key


def test_training_for_the_demo_model_says_the_grammar_stays(data_dir, tmp_path):
    corpus = tmp_path / "captions.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    assert "stay described by the grammar" in train(corpus, "--steps", 2)
