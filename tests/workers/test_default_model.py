"""The default real model (multilingual) offline: a sentence that says what to do, in the API and on the asset page."""

import pytest
from django.conf import settings as django_settings

from mediahub.assets.models import Asset
from workers.ml.clip import ClipSpec, ModelUnavailable, load_clip

DEFAULT_MODEL = (django_settings.DEFAULT_CLIP_MODEL, django_settings.DEFAULT_CLIP_PRETRAINED)


def test_the_default_model_reads_english_and_chinese():
    import open_clip

    assert DEFAULT_MODEL == ("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k")
    assert open_clip.get_model_config(DEFAULT_MODEL[0])["text_cfg"]["hf_tokenizer_name"] == "xlm-roberta-base"


def test_offline_the_default_model_fails_with_what_to_do(offline, tmp_path):
    spec = ClipSpec(name=DEFAULT_MODEL[0], pretrained=DEFAULT_MODEL[1], cache_dir=str(tmp_path / "models"))
    with pytest.raises(ModelUnavailable) as failure:
        load_clip(spec)
    message = str(failure.value)
    assert message.startswith("The CLIP model xlm-roberta-base-ViT-B-32 can't be loaded: its weights (laion5b_s13b_b90k) "
                              "and the Hugging Face tokenizer and config files of xlm-roberta-base are not in")
    assert str(tmp_path / "models") in message
    assert "Connect this machine to the internet once" in message and "MEDIAHUB_CLIP_MODEL=demo" in message


def test_hugging_face_files_are_cached_in_the_data_dir():
    import os

    assert os.environ["HF_HOME"] == str(django_settings.MODEL_CACHE_DIR / "huggingface")


@pytest.mark.django_db
def test_offline_search_and_the_asset_page_say_what_to_do(offline, settings, owner, owner_api, client, two_scene_video):
    from tests.library import ingest_until_done

    settings.CLIP_MODEL, settings.CLIP_PRETRAINED = DEFAULT_MODEL
    response = owner_api.get("/api/search", {"q": "洪水"})
    assert response.status_code == 503
    assert "Connect this machine to the internet once" in response.json()["detail"]
    asset = ingest_until_done(two_scene_video, "Flood at the bridge")
    assert asset.status == Asset.Status.FAILED and "Connect this machine to the internet once" in asset.error
    client.force_login(owner)
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert "Connect this machine to the internet once" in page
