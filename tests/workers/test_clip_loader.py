"""One open_clip loader for the demo and real models: identity, caching, normalised outputs, failures."""

import numpy as np
import pytest

from workers.ml import demo
from workers.ml.clip import ClipSpec, ModelUnavailable, choose_device, load_clip

DEMO = ClipSpec(name="demo", pretrained="ignored-for-demo")


def test_the_demo_model_loads_once_per_process_through_open_clip():
    model = load_clip(DEMO)
    assert load_clip(ClipSpec(name="demo", pretrained="ignored-for-demo")) is model
    assert model.spec.open_clip_name == demo.MODEL_NAME
    assert model.tokenizer.context_length == 48  # the registered config, not open_clip's default 77
    assert not model.model.training  # BatchNorm in eval mode


def test_outputs_are_l2_normalised_float32():
    from PIL import Image

    model = load_clip(DEMO)
    images = model.embed_images([Image.new("RGB", (64, 48), (220, 40, 40)), Image.new("RGB", (48, 64), (20, 20, 20))])
    texts = model.embed_texts(["a red circle", "红色圆形", "圆形"])
    for vectors, count in ((images, 2), (texts, 3)):
        assert vectors.shape == (count, model.dim) and vectors.dtype == np.float32
        assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(count), abs=1e-4)


def test_model_keys_identify_the_weights():
    assert DEMO.key.startswith("mediahub-demo@file:")
    assert ClipSpec(name="ViT-B-32", pretrained="laion2b_s34b_b79k").key == "ViT-B-32@laion2b_s34b_b79k"
    assert ClipSpec(name="ViT-B-32", pretrained="random").key == "ViT-B-32@random"
    assert ClipSpec(name="ViT-B-32", pretrained="random").embed_dim() == 512


def test_a_missing_checkpoint_file_is_reported_with_what_to_do(tmp_path):
    with pytest.raises(ModelUnavailable, match="MEDIAHUB_CLIP_PRETRAINED"):
        load_clip(ClipSpec(name="ViT-B-32", pretrained=str(tmp_path / "missing.pt")))


def test_an_unknown_model_name_is_reported():
    with pytest.raises(ModelUnavailable, match="no-such-model"):
        load_clip(ClipSpec(name="no-such-model", pretrained="random"))


def test_the_device_is_chosen_in_one_place():
    assert choose_device("cpu") == "cpu"
    assert choose_device("auto") in ("cpu", "cuda")


def _bytes_read_by_this_process() -> int:
    for line in open("/proc/self/io").read().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_a_checkpoint_file_is_hashed_once_per_process_not_per_key(tmp_path):
    import os

    checkpoint = tmp_path / "weights.pt"
    checkpoint.write_bytes(os.urandom(4 * 1024 * 1024))
    spec = ClipSpec(name="ViT-B-32", pretrained=str(checkpoint))
    before = _bytes_read_by_this_process()
    keys = {spec.key for _ in range(50)}
    assert _bytes_read_by_this_process() - before < 2 * checkpoint.stat().st_size
    assert len(keys) == 1
    checkpoint.write_bytes(os.urandom(4 * 1024 * 1024 + 1))  # new weights, new identity
    assert spec.key != keys.pop()


def test_texts_encode_as_if_padded_to_the_context_length():
    # The text tower runs only up to the longest text of a batch; every vector must be the one
    # the whole padded context gives (what the frames' index and stored searches were made with).
    import torch

    model = load_clip(DEMO)
    texts = ["circle", "a red circle on a blue background", "黑色背景上的黄色星形", "star " * 60]
    tokens = model.tokenizer(texts)
    with torch.inference_mode():
        padded = model.model.encode_text(tokens, normalize=True).numpy()
    assert int(tokens[-1].argmax()) == tokens.shape[1] - 1  # the long text fills the context: nothing to cut
    np.testing.assert_allclose(model.embed_texts(texts), padded, atol=1e-5)
    np.testing.assert_allclose(model.embed_texts(texts[:2]), padded[:2], atol=1e-5)  # cut after "a red circle..."


def test_a_hugging_face_text_tower_encodes_as_if_padded():
    # The default multilingual model's tower (XLM-RoBERTa through open_clip), here small and untrained.
    import torch
    from open_clip.hf_model import HFTextEncoder
    from transformers import XLMRobertaConfig

    from workers.ml.clip import encode_text_unpadded

    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=200, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=80, pad_token_id=1)
    tower = HFTextEncoder("xlm-roberta-base", output_dim=16, config=config, pooler_type="mean_pooler",
                          proj_type="linear").eval()

    class TextOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text = tower

        def encode_text(self, tokens, normalize=False):
            features = self.text(tokens)
            return torch.nn.functional.normalize(features, dim=-1) if normalize else features

    tokens = torch.full((3, 77), 1)  # padded to the context length as open_clip's HF tokenizer does
    tokens[0, :5] = torch.tensor([0, 17, 42, 99, 2])
    tokens[1, :9] = torch.tensor([0, 5, 6, 7, 8, 9, 10, 11, 2])
    tokens[2, :3] = torch.tensor([0, 150, 2])
    with torch.inference_mode():
        padded = TextOnly().encode_text(tokens, normalize=True)
        unpadded = encode_text_unpadded(TextOnly(), tokens)
    torch.testing.assert_close(unpadded, padded, atol=1e-5, rtol=0)


def test_texts_encoded_on_fewer_threads_are_the_same_and_leave_the_process_setting_alone():
    import torch

    model = load_clip(DEMO)
    before = torch.get_num_threads()
    texts = ["a red circle", "红色圆形"]
    np.testing.assert_allclose(model.embed_texts(texts, threads=1), model.embed_texts(texts), atol=1e-5)
    assert torch.get_num_threads() == before
