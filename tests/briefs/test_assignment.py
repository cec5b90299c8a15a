"""The board's proposal per beat: an assignment over all beats that avoids showing the same footage
twice while good alternatives exist."""

from mediahub.briefs.assignment import BeatCandidates, Candidate, propose, same_footage

FLOOD = Candidate(asset_id=1, start=0.0, end=4.0, score=0.90)
FLOOD_OTHER_ANGLE = Candidate(asset_id=2, start=10.0, end=14.0, score=0.80)
QUEUE = Candidate(asset_id=3, start=0.0, end=6.0, score=0.70)
MARGIN = 0.25


def chosen(beats, proposals):
    return [beat.results[p.choice] if p.choice is not None else beat.pick for beat, p in zip(beats, proposals)]


def test_beats_with_different_best_moments_keep_them():
    queue_for_beat_two = Candidate(asset_id=3, start=0.0, end=6.0, score=0.95)
    beats = [BeatCandidates([FLOOD, QUEUE]), BeatCandidates([queue_for_beat_two, FLOOD])]
    assert chosen(beats, propose(beats, margin=MARGIN)) == [FLOOD, queue_for_beat_two]


def test_two_beats_wanting_one_moment_get_different_ones_when_an_alternative_clears_the_floor():
    beats = [BeatCandidates([FLOOD, FLOOD_OTHER_ANGLE]), BeatCandidates([FLOOD])]
    proposals = propose(beats, margin=MARGIN)
    assert chosen(beats, proposals) == [FLOOD_OTHER_ANGLE, FLOOD]
    assert all(p.shared_with == () for p in proposals)


def test_the_assignment_maximises_the_total_not_beat_by_beat():
    # Greedy in beat order gives beat 0 the flood and beat 1 its weaker alternative (0.9 + 0.5);
    # moving beat 0 to its strong alternative instead scores 0.85 + 0.88.
    strong_alternative = Candidate(asset_id=4, start=0, end=3, score=0.85)
    weak_alternative = Candidate(asset_id=5, start=0, end=3, score=0.50)
    beats = [BeatCandidates([FLOOD, strong_alternative]),
             BeatCandidates([Candidate(1, 0.5, 4.0, 0.88), weak_alternative])]
    first, second = chosen(beats, propose(beats, margin=MARGIN))
    assert first == strong_alternative and second.asset_id == 1


def test_an_alternative_far_below_the_beats_best_is_not_good_enough_to_move_it():
    near_miss = Candidate(asset_id=6, start=0.0, end=4.0, score=FLOOD.score - MARGIN - 0.01)
    beats = [BeatCandidates([FLOOD, near_miss]), BeatCandidates([FLOOD])]
    proposals = propose(beats, margin=MARGIN)
    assert chosen(beats, proposals) == [FLOOD, FLOOD]
    assert [p.shared_with for p in proposals] == [(1,), (0,)]


def test_without_an_alternative_each_beat_keeps_its_best_and_says_whom_it_shares_with():
    beats = [BeatCandidates([FLOOD]), BeatCandidates([FLOOD]), BeatCandidates([QUEUE])]
    proposals = propose(beats, margin=MARGIN)
    assert chosen(beats, proposals) == [FLOOD, FLOOD, QUEUE]
    assert [p.shared_with for p in proposals] == [(1,), (0,), ()]


def test_a_beat_proposes_usable_footage_over_a_slightly_better_moment_nobody_may_publish():
    embargoed = Candidate(asset_id=7, start=0.0, end=4.0, score=0.92, usable=False)
    beats = [BeatCandidates([embargoed, FLOOD])]
    assert chosen(beats, propose(beats, margin=MARGIN)) == [FLOOD]


def test_unusable_footage_is_still_proposed_when_nothing_usable_matches_well():
    embargoed = Candidate(asset_id=7, start=0.0, end=4.0, score=0.92, usable=False)
    far_below = Candidate(asset_id=8, start=0.0, end=4.0, score=0.92 - MARGIN - 0.01)
    beats = [BeatCandidates([embargoed, far_below])]
    assert chosen(beats, propose(beats, margin=MARGIN)) == [embargoed]


def test_of_two_beats_wanting_one_moment_the_one_with_a_usable_alternative_moves():
    do_not_use = Candidate(asset_id=9, start=0.0, end=4.0, score=0.89, usable=False)
    beats = [BeatCandidates([FLOOD, do_not_use]), BeatCandidates([FLOOD, FLOOD_OTHER_ANGLE])]
    assert chosen(beats, propose(beats, margin=MARGIN)) == [FLOOD, FLOOD_OTHER_ANGLE]


def test_a_pick_is_fixed_and_other_beats_go_around_it():
    beats = [BeatCandidates([FLOOD, FLOOD_OTHER_ANGLE]), BeatCandidates([QUEUE], pick=FLOOD)]
    proposals = propose(beats, margin=MARGIN)
    assert chosen(beats, proposals) == [FLOOD_OTHER_ANGLE, FLOOD]
    assert proposals[1].choice is None


def test_a_weak_beat_keeps_its_closest_result_and_good_beats_avoid_it_when_they_can():
    beats = [BeatCandidates([FLOOD], weak=True), BeatCandidates([FLOOD, QUEUE])]
    assert chosen(beats, propose(beats, margin=MARGIN)) == [FLOOD, QUEUE]


def test_overlapping_ranges_of_one_asset_are_the_same_footage_and_neighbours_are_not():
    assert same_footage(FLOOD, Candidate(1, 1.0, 5.0, 0.5))
    assert not same_footage(FLOOD, Candidate(1, 4.0, 8.0, 0.5))
    assert not same_footage(FLOOD, Candidate(2, 0.0, 4.0, 0.5))
    image = Candidate(7, 0.0, 0.0, 0.9)
    assert same_footage(image, Candidate(7, 0.0, 0.0, 0.4))


def test_a_beat_without_results_proposes_nothing():
    beats = [BeatCandidates([], weak=True), BeatCandidates([QUEUE])]
    proposals = propose(beats, margin=MARGIN)
    assert proposals[0].choice is None and chosen(beats, proposals)[1] == QUEUE
