"""Writes of shots: a pipeline run's shots (keeping editors' corrections), generated descriptions,
and an editor's correction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.shots.models import LANGUAGES, Shot

MAX_DESCRIPTION = 500  # characters: one short sentence, as agencies' shot lists have


class ShotEditRefused(ValueError):
    """A correction that can't be stored; the message says what to send instead."""


class ShotStale(ShotEditRefused):
    """The shot was replaced by a reprocess while the editor worked on it."""


def _overlap(a: Shot, start: float, end: float) -> float:
    if a.start == a.end or start == end:  # an image's shot, 0–0
        return 1.0 if a.start <= end and start <= a.end else 0.0
    return max(0.0, min(a.end, end) - max(a.start, start))


def _thumbnail(frames: list, start: float, end: float) -> int | None:
    """The sampled frame nearest the shot's middle, preferring one inside the shot."""
    if not frames:
        return None
    middle = (start + end) / 2
    inside = [f for f in frames if start <= f.time < end] or frames
    return min(inside, key=lambda f: abs(f.time - middle)).index


@transaction.atomic
def shots_replace(*, asset: Asset, spans: list[tuple[float, float]], frames: list) -> list[Shot]:
    """Make `spans` (start, end: in order, covering the asset) the asset's shots, each shown by one
    of `frames` (the sampled frames: objects with .index and .time). Generated
    descriptions go (a later step writes new ones); each edited description moves to the new shot
    that overlaps its old one most (the latest edit wins where two land on one shot)."""
    old = list(Shot.objects.select_for_update().filter(asset=asset).order_by("edited_at"))
    Shot.objects.filter(asset=asset).delete()
    shots = [Shot(asset=asset, index=i, start=start, end=end, thumbnail_index=_thumbnail(frames, start, end))
             for i, (start, end) in enumerate(spans)]
    for edited in (shot for shot in old if shot.edited):
        overlaps = [_overlap(edited, shot.start, shot.end) for shot in shots]
        if not overlaps or max(overlaps) <= 0:
            continue
        target = shots[overlaps.index(max(overlaps))]
        target.edited_en, target.edited_zh = edited.edited_en, edited.edited_zh
        target.edited_by_id, target.edited_at = edited.edited_by_id, edited.edited_at
    Shot.objects.bulk_create(shots)
    return shots


@transaction.atomic
def shot_descriptions_save(*, asset: Asset, descriptions: list[dict[str, str]]) -> None:
    """The generated descriptions, one {"en", "zh"} per shot in index order (the describing step)."""
    shots = list(Shot.objects.select_for_update().filter(asset=asset).order_by("index"))
    if len(shots) != len(descriptions):
        raise ValueError(f"{len(descriptions)} descriptions for {len(shots)} shots")
    for shot, text in zip(shots, descriptions):
        shot.description_en, shot.description_zh = text.get("en", ""), text.get("zh", "")
    Shot.objects.bulk_update(shots, ["description_en", "description_zh", "updated_at"])


@transaction.atomic
def shot_description_edit(*, shot: Shot, user, texts: dict[str, str]) -> Shot:
    """An editor's correction, per language ({"en": ..., "zh": ...}, either or both). An empty text
    drops the correction in that language, so the generated one shows again."""
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown or not texts:
        raise ShotEditRefused("Send the corrected description as {\"en\": \"...\"} and/or {\"zh\": \"...\"}.")
    cleaned = {}
    for lang, text in texts.items():
        if not isinstance(text, str):
            raise ShotEditRefused(f"{lang}: the description must be text.")
        cleaned[lang] = " ".join(text.split())
        if len(cleaned[lang]) > MAX_DESCRIPTION:
            raise ShotEditRefused(f"{lang}: keep the description under {MAX_DESCRIPTION} characters "
                                  f"(it has {len(cleaned[lang])}); a shot list line is one short sentence.")
    # Re-read under a lock: a reprocess replaces the asset's shot rows, and saving a stale one would
    # bring it back beside the new ones.
    current = Shot.objects.select_for_update().filter(pk=shot.pk).first()
    if current is None:
        raise ShotStale("The asset was cut into shots anew (reprocessed) while you edited; reload it and "
                        "correct the shot again.")
    for lang, text in cleaned.items():
        setattr(current, f"edited_{lang}", text)
    current.edited_by, current.edited_at = (user, timezone.now()) if current.edited else (None, None)
    current.save(update_fields=[*(f"edited_{lang}" for lang in cleaned), "edited_by", "edited_at", "updated_at"])
    return current
