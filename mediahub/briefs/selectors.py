"""Reads of briefs: the list, and a brief's board (each beat's moments with their assets, the board's
proposal per beat from the assignment over all beats, and the pick)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from mediahub.assets.models import Asset
from mediahub.assets.selectors import assets_visible
from mediahub.briefs.assignment import BeatCandidates, Candidate, propose
from mediahub.briefs.models import Beat, Brief
from mediahub.search import selectors as search_selectors

# A beat's alternative moment is good when it scores within this many of the model's spreads of the
# beat's best (assignment.py says why half).
ALTERNATIVE_SPREADS = 0.5


@dataclass(frozen=True)
class BoardMoment:
    asset: Asset
    start: float
    end: float
    score: float | None  # None: a range the editor picked that no search returned
    best: float  # the second that shows it best (its thumbnail)

    @property
    def usage_warning(self) -> str | None:
        return self.asset.usage_warning()

    @property
    def frame_index(self) -> int:
        return int((self.best + 1e-6) // settings.FRAME_INTERVAL_SECONDS)

    def same_range(self, other: "BoardMoment | None") -> bool:
        return (other is not None and other.asset.pk == self.asset.pk and abs(other.start - self.start) < 1e-3
                and abs(other.end - self.end) < 1e-3)


@dataclass
class BoardBeat:
    beat: Beat
    results: list[BoardMoment]  # the board's proposal first, then the rest best first
    pick: BoardMoment | None
    shared_with: tuple[int, ...] = ()  # other beats (indexes) showing the same footage
    proposed: BoardMoment | None = field(default=None)

    @property
    def choice(self) -> BoardMoment | None:
        """What the timeline gets: the pick, else the board's proposal."""
        return self.pick or self.proposed

    @property
    def weak(self) -> bool:
        return self.beat.weak


@dataclass
class Board:
    brief: Brief
    beats: list[BoardBeat]


def briefs_list() -> QuerySet[Brief]:
    """Every brief (anyone may open one), latest changed first, with its beat and pick counts."""
    return (Brief.objects.select_related("owner")
            .annotate(beat_count=Count("beats"), picked_count=Count("beats", filter=Q(beats__pick_asset__isnull=False)))
            .order_by("-updated_at", "-id"))


def brief_board(*, brief: Brief, user=None) -> Board:
    """The brief's beats with their moments, in two queries whatever the number of beats. Footage the
    rights policy hides from `user` (a viewer) is left out, like an asset deleted since."""
    beats = list(Beat.objects.filter(brief=brief).order_by("index"))
    wanted = {row["asset_id"] for beat in beats for row in beat.results} | {b.pick_asset_id for b in beats if b.picked}
    assets = assets_visible(user=user).in_bulk(wanted) if wanted else {}
    board_beats = [_board_beat(beat, assets) for beat in beats]
    spread = search_selectors.calibration_for(spec=search_selectors.active_clip_spec()).spread
    proposals = propose([BeatCandidates(results=[_candidate(m) for m in b.results], weak=b.weak,
                                        pick=_candidate(b.pick) if b.pick else None) for b in board_beats],
                        margin=ALTERNATIVE_SPREADS * spread)
    for board_beat, proposal in zip(board_beats, proposals):
        board_beat.shared_with = proposal.shared_with
        if proposal.choice is not None:
            proposed = board_beat.results[proposal.choice]
            board_beat.results.remove(proposed)
            board_beat.results.insert(0, proposed)
            board_beat.proposed = proposed
        elif not board_beat.pick and board_beat.results:
            board_beat.proposed = board_beat.results[0]
    return Board(brief=brief, beats=board_beats)


def _board_beat(beat: Beat, assets: dict[int, Asset]) -> BoardBeat:
    results = [BoardMoment(asset=assets[row["asset_id"]], start=row["start"], end=row["end"], score=row["score"],
                           best=row.get("best", row["start"]))
               for row in beat.results if row["asset_id"] in assets]  # an asset deleted since is left out
    pick = None
    if beat.picked and beat.pick_asset_id in assets:
        pick = next((m for m in results if m.asset.pk == beat.pick_asset_id and abs(m.start - beat.pick_start) < 1e-3
                     and abs(m.end - beat.pick_end) < 1e-3), None)
        pick = pick or BoardMoment(asset=assets[beat.pick_asset_id], start=beat.pick_start, end=beat.pick_end,
                                   score=None, best=beat.pick_start)
    return BoardBeat(beat=beat, results=results, pick=pick)


def _candidate(moment: BoardMoment) -> Candidate:
    return Candidate(asset_id=moment.asset.pk, start=moment.start, end=moment.end, score=moment.score or 0.0,
                     usable=moment.asset.publishable())


def beat_get(*, brief: Brief, index: int) -> Beat | None:
    return Beat.objects.filter(brief=brief, index=index).select_related("brief").first()
