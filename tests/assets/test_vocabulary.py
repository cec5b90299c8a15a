"""The two tag vocabularies: the test-pattern world for the demo model, the newsroom's for real models."""

import uuid

import pytest

from mediahub.assets.models import TagLabel
from mediahub.search.selectors import tag_labels_active, tags_named_in

pytestmark = pytest.mark.django_db


def test_the_demo_model_uses_only_the_test_pattern_labels():
    labels = tag_labels_active()
    assert {label.group for label in labels} == {"colour", "shape"}
    assert {label.name for label in tags_named_in("红色圆形")} == {"red", "circle"}
    assert tags_named_in("a flood at the harbour") == []


def test_a_real_model_uses_the_newsroom_vocabulary_in_english_and_chinese(settings):
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"
    labels = list(tag_labels_active())
    assert len(labels) >= 150
    assert all(label.name_zh for label in labels)
    assert {"event", "place", "weather", "light", "shot"} <= {label.group for label in labels}
    assert "circle" not in {label.name for label in labels}
    flood = next(label for label in labels if label.name == "flood")
    assert len(flood.prompt_list()) >= 6 and any("洪水" in prompt for prompt in flood.prompt_list())
    assert {label.name for label in tags_named_in("港口的洪水")} == {"flood", "harbour"}
    assert {label.name for label in tags_named_in("aerial view of a flood")} == {"aerial view", "flood"}
    assert tags_named_in("a red circle") == []


def test_an_admin_edit_of_a_label_reaches_the_active_set(settings):
    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = "xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"
    TagLabel.objects.filter(vocabulary="newsroom", name="flood").update(enabled=False)
    TagLabel.objects.create(vocabulary="newsroom", name="inundation", name_zh="淹没", group="event", prompts="a flooded town")
    names = {label.name for label in tag_labels_active()}
    assert "flood" not in names and "inundation" in names


def test_prompt_vectors_are_kept_so_a_new_worker_process_encodes_only_new_prompts(monkeypatch):
    from mediahub.search.models import PromptVector
    from mediahub.search.selectors import active_clip_spec
    from workers import tasks
    from workers.ml.clip import ClipModel

    spec = active_clip_spec()
    prompts = tuple(tuple(label.prompt_list()) for label in tag_labels_active(spec))
    wanted = {p for group in prompts for p in group}
    tasks.vocabulary_vectors.cache_clear()
    first = tasks.vocabulary_vectors(spec, prompts)
    assert set(PromptVector.objects.filter(text__in=wanted).values_list("text", flat=True)) == wanted

    encoded = []
    original = ClipModel.embed_texts
    monkeypatch.setattr(ClipModel, "embed_texts", lambda self, texts, **kw: encoded.extend(texts) or original(self, texts, **kw))
    tasks.vocabulary_vectors.cache_clear()  # as in a freshly started worker
    new_prompt = f"a pink shape {uuid.uuid4().hex[:8]}"  # never stored by another test
    again = tasks.vocabulary_vectors(spec, prompts + ((new_prompt,),))
    assert encoded == [new_prompt]
    assert abs(again[:len(first)] - first).max() < 1e-6
    tasks.vocabulary_vectors.cache_clear()
