"""Writes of briefs: make one (cut into beats, every beat searched), search a beat again, pick,
rename, filter and delete. Every beat is searched like GET /api/search (the same ranking, filters
and feedback), its texts encoded in one batch, and stored with its search so a pick is feedback."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from mediahub.assets.models import Asset
from mediahub.briefs.beats import beats_split
from mediahub.briefs.models import Beat, Brief
from mediahub.search import selectors as search_selectors
from mediahub.search import services as search_services
from mediahub.search.forms import SearchFiltersForm
from mediahub.search.models import Feedback, Search
from mediahub.search.selectors import SearchFilters

MAX_BEATS = 200  # a long package script has a few dozen; each beat is a search
MAX_BEAT_CHARACTERS = 500  # as a search query (TextSearchForm)
MAX_TEXT_CHARACTERS = 100_000
MAX_PER_BEAT = 20
DEFAULT_PER_BEAT = 5
MAX_TITLE_CHARACTERS = 200
FILTER_NAMES = ("kind", "tag", "person", "asset", "after", "before", "source", "rights", "embargoed")


class BriefRejected(Exception):
    """The request can't be done as asked; the message says what to change."""


class AssetGone(BriefRejected):
    """The asset asked for doesn't exist (any more)."""


@dataclass(frozen=True)
class BeatFound:
    search: Search | None
    results: list[dict]
    weak: bool


def brief_session_key(brief: Brief) -> str:
    """The search session of a brief's beats: picks in it refine later searches of the same beat text."""
    return f"brief:{brief.pk}"


def brief_filters(params: dict) -> SearchFilters:
    """The search filters of a brief, validated like the search API's (a sentence per bad value)."""
    unknown = sorted(set(params) - set(FILTER_NAMES))
    if unknown:
        raise BriefRejected(f"Unknown filter {unknown[0]!r}; a brief filters by {', '.join(FILTER_NAMES)}.")
    form = SearchFiltersForm({name: value for name, value in params.items() if value not in (None, "")})
    if not form.is_valid():
        raise BriefRejected(form.first_error())
    return form.filters()


def brief_beat_texts(text: str) -> list[str]:
    """The beats of a brief's text, or BriefRejected saying what is wrong with it."""
    if text is not None and not isinstance(text, str):
        raise BriefRejected("Send the brief's text as a string in the field text, one beat per line.")
    if not text or not text.strip():
        raise BriefRejected("The brief has no text; paste a script or brief with one beat per line.")
    if len(text) > MAX_TEXT_CHARACTERS:
        raise BriefRejected(f"The brief is {len(text):,} characters long; keep it under {MAX_TEXT_CHARACTERS:,}.")
    beats = beats_split(text)
    if len(beats) > MAX_BEATS:
        raise BriefRejected(f"The brief has {len(beats):,} beats; a brief can have at most {MAX_BEATS}. "
                            "Split it into several briefs.")
    for number, beat in enumerate(beats, start=1):
        beat_text_check(beat, number=number)
    return beats


def beat_text_check(text: str, *, number: int) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise BriefRejected(f"Beat {number} has no text; write what the footage should show.")
    if len(text) > MAX_BEAT_CHARACTERS:
        raise BriefRejected(f"Beat {number} is {len(text):,} characters long; keep each beat under "
                            f"{MAX_BEAT_CHARACTERS} characters (a line or a sentence of the script).")
    return text


def title_check(title: str, *, beats: list[str]) -> str:
    title = " ".join(str(title or "").split())
    if len(title) > MAX_TITLE_CHARACTERS:
        raise BriefRejected(f"The title is too long; keep it under {MAX_TITLE_CHARACTERS} characters.")
    return title or (beats[0][:80] if beats else "Untitled brief")


def per_beat_check(per_beat) -> int:
    if per_beat is None:
        return DEFAULT_PER_BEAT
    if isinstance(per_beat, bool) or not isinstance(per_beat, int) or not 1 <= per_beat <= MAX_PER_BEAT:
        raise BriefRejected(f"per_beat must be a whole number from 1 to {MAX_PER_BEAT}.")
    return per_beat


def brief_create(*, owner, text: str, title: str = "", per_beat: int | None = None, filters: dict | None = None) -> Brief:
    """A stored brief with its beats, each searched. All or nothing: a failure leaves no brief."""
    beats = brief_beat_texts(text)
    search_filters = brief_filters(filters or {})
    with transaction.atomic():
        brief = Brief.objects.create(owner=owner, title=title_check(title, beats=beats), text=text,
                                     per_beat=per_beat_check(per_beat), filters=search_filters.as_json())
        found = beats_search(brief=brief, user=owner, texts=beats, filters=search_filters)
        Beat.objects.bulk_create([Beat(brief=brief, index=index, text=beat, search=result.search,
                                       results=result.results, weak=result.weak)
                                  for index, (beat, result) in enumerate(zip(beats, found))])
    return brief


def beats_search(*, brief: Brief, user, texts: list[str], filters: SearchFilters) -> list[BeatFound]:
    """Each text searched as GET /api/search would, in the brief's session; the texts are encoded
    in one batch first (the searches then find their vectors in the per-process cache), and what
    every search reads alike (model, vocabulary, named people, the assets found) is read once."""
    spec = search_selectors.active_clip_spec()
    reads = search_selectors.search_reads(spec=spec)
    search_selectors.text_query_vectors(spec=spec, texts=[
        search_services.text_search_encoded_text(text, filters=filters, people=reads.people) for text in texts])
    return [_found(search_services.text_search(user=user, query=text, filters=filters, limit=brief.per_beat,
                                               session_key=brief_session_key(brief), reads=reads))
            for text in texts]


def _found(outcome: search_services.SearchOutcome | None) -> BeatFound:
    if outcome is None:
        return BeatFound(search=None, results=[], weak=True)
    return BeatFound(search=outcome.search, weak=outcome.weak or not outcome.moments, results=[
        {"asset_id": m.asset_id, "start": m.start, "end": m.end, "score": round(m.score, 4), "best": m.best_time}
        for m in outcome.moments])


def _beat_store(beat: Beat, found: BeatFound, *, similar_to: dict | None = None) -> Beat:
    beat.results, beat.weak, beat.similar_to = found.results, found.weak, similar_to
    if found.search is not None and similar_to is None:
        beat.search = found.search
    beat.save(update_fields=["results", "weak", "similar_to", "search", "updated_at"])
    Brief.objects.filter(pk=beat.brief_id).update(updated_at=timezone.now())
    return beat


@transaction.atomic
def beat_text_edit(*, beat: Beat, user, text: str) -> Beat:
    """The beat with new text, searched again (its pick is kept: the editor chose it)."""
    beat.text = beat_text_check(text, number=beat.index + 1)
    beat.save(update_fields=["text", "updated_at"])
    brief = beat.brief
    found = beats_search(brief=brief, user=user, texts=[beat.text], filters=brief_filters(brief.filters))[0]
    return _beat_store(beat, found)


@transaction.atomic
def beat_search_similar(*, beat: Beat, user, asset_id: int, time: float) -> Beat:
    """The beat's results replaced by the moments that look like one second of an asset ("more like this")."""
    brief = beat.brief
    if not Asset.objects.filter(pk=asset_id).exists():
        raise AssetGone(f"There is no asset {asset_id}; it may have been deleted.")
    outcome = search_services.search_with_active_model(
        user=user, vector_for=lambda spec: search_selectors.second_vector(spec=spec, asset_id=asset_id, time=time),
        kind=Search.Kind.MOMENT, query="", filters=brief_filters(brief.filters), limit=brief.per_beat,
        session_key=brief_session_key(brief))
    if outcome is None:
        raise BriefRejected(f"Asset {asset_id} has no indexed frame near {time:g} s yet; wait until it is ready.")
    return _beat_store(beat, _found(outcome), similar_to={"asset_id": asset_id, "time": time})


@transaction.atomic
def brief_update(*, brief: Brief, user, title: str | None = None, filters: dict | None = None,
                 per_beat: int | None = None) -> Brief:
    """Rename the brief, or change its filters or results per beat (every beat is searched again)."""
    if title is not None:
        brief.title = title_check(title, beats=[]) if str(title).strip() else brief.title
    research = False
    if filters is not None:
        brief.filters, research = brief_filters(filters).as_json(), True
    if per_beat is not None and per_beat_check(per_beat) != brief.per_beat:
        brief.per_beat, research = per_beat, True
    brief.save(update_fields=["title", "filters", "per_beat", "updated_at"])
    if research:
        beats = list(brief.beats.order_by("index"))
        found = beats_search(brief=brief, user=user, texts=[beat.text for beat in beats], filters=brief_filters(brief.filters))
        for beat, result in zip(beats, found):
            _beat_store(beat, result)
    return brief


@transaction.atomic
def beat_pick(*, beat: Beat, user, asset_id: int, start: float, end: float) -> Beat:
    """The editor's moment for the beat (one of its results, or any range of any asset); stored as
    `relevant` feedback on the beat's text search."""
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        raise AssetGone(f"There is no asset {asset_id} to pick; it may have been deleted.")
    start, end = _pick_range(asset, start, end)
    feedback = None
    if beat.search is not None:
        feedback = Feedback.objects.create(search=beat.search, asset=asset, start=start, end=end,
                                           action=Feedback.Action.RELEVANT, user=user)
    beat.pick_asset, beat.pick_start, beat.pick_end, beat.pick_feedback = asset, start, end, feedback
    beat.picked_by, beat.picked_at = user, timezone.now()
    beat.save(update_fields=["pick_asset", "pick_start", "pick_end", "pick_feedback", "picked_by", "picked_at", "updated_at"])
    Brief.objects.filter(pk=beat.brief_id).update(updated_at=timezone.now())
    return beat


def _pick_range(asset: Asset, start, end) -> tuple[float, float]:
    try:
        start, end = float(start), float(end)
    except (TypeError, ValueError):
        raise BriefRejected("start and end must be numbers of seconds.") from None
    if asset.kind == Asset.Kind.IMAGE:
        return 0.0, 0.0  # an image is a moment 0–0 whatever range was sent
    if not (0 <= start < end):
        raise BriefRejected("A pick needs 0 ≤ start < end, in seconds from the asset's first frame.")
    if asset.duration is not None and start >= asset.duration:
        raise BriefRejected(f"The pick starts at {start:g} s, after the end of “{asset.title}” ({asset.duration:g} s).")
    return start, min(end, asset.duration) if asset.duration is not None else end


@transaction.atomic
def beat_unpick(*, beat: Beat) -> Beat:
    """Take the pick back; the feedback it gave goes with it (a pick undone was a slip, not a judgement)."""
    if beat.pick_feedback_id is not None:
        Feedback.objects.filter(pk=beat.pick_feedback_id).delete()
    beat.pick_asset = beat.pick_start = beat.pick_end = beat.pick_feedback = beat.picked_by = beat.picked_at = None
    beat.save(update_fields=["pick_asset", "pick_start", "pick_end", "pick_feedback", "picked_by", "picked_at", "updated_at"])
    return beat


def brief_delete(*, brief: Brief) -> None:
    """Delete the brief and its beats; the searches stay (with any feedback, which tunes rankings)."""
    brief.delete()
