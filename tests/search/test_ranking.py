"""Moment merging, fusion and feedback rules on plain numbers."""

import pytest

from mediahub.search.ranking import (
    FeedbackEvent, Moment, Second, ShotMatch, ShotSpan, answers, apply_feedback, background_level, describe_shots,
    feedback_kernel, feedback_strength, fuse, merge_seconds, rank,
)


def seconds(scores, start=0.0):
    return [Second(time=start + i, score=s) for i, s in enumerate(scores)]


def test_adjacent_matching_seconds_merge_into_one_moment_with_exact_edges():
    scores = [0.1, 0.12, 0.5, 0.55, 0.6, 0.52, 0.11, 0.1]
    [best, *rest] = merge_seconds(1, seconds(scores), interval=1.0, background=0.1, min_peak=0.3, duration=8.0)
    assert (best.start, best.end, best.best_time) == (2.0, 6.0, 4.0)
    assert best.visual == pytest.approx((0.6 + 0.55 + 0.52) / 3)
    assert rest == []  # nothing else rises above min_peak


def test_two_separate_matches_in_one_asset_are_two_moments_that_do_not_overlap():
    scores = [0.6, 0.58, 0.1, 0.1, 0.5, 0.52, 0.1]
    moments = merge_seconds(1, seconds(scores), interval=1.0, background=0.1, min_peak=0.3, duration=7.0)
    assert [(m.start, m.end) for m in moments] == [(0.0, 2.0), (4.0, 6.0)]


def test_a_moments_score_reflects_its_best_seconds_not_its_length():
    long = merge_seconds(1, seconds([0.5] * 20), interval=1.0, background=0.1, min_peak=0.3, duration=20.0)[0]
    short = merge_seconds(2, seconds([0.5] * 2), interval=1.0, background=0.1, min_peak=0.3, duration=2.0)[0]
    assert long.visual == pytest.approx(short.visual)


def test_a_gap_in_sampling_splits_a_moment():
    samples = [Second(0, 0.5), Second(1, 0.5), Second(5, 0.5)]
    moments = merge_seconds(1, samples, interval=1.0, background=0.1, min_peak=0.3, duration=6.0)
    assert sorted((m.start, m.end) for m in moments) == [(0, 2.0), (5, 6.0)]


def test_the_last_moment_ends_at_the_video_end_and_an_image_is_an_instant():
    video = merge_seconds(1, seconds([0.1, 0.5, 0.5]), interval=1.0, background=0.1, min_peak=0.3, duration=2.4)
    assert (video[0].start, video[0].end) == (1.0, 2.4)
    image = merge_seconds(2, [Second(0.0, 0.5)], interval=1.0, background=0.1, min_peak=0.3, duration=None)
    assert (image[0].start, image[0].end) == (0.0, 0.0)


def test_a_near_miss_in_the_next_shot_starts_a_moment_of_its_own():
    # A circle scores 0.55 for "circle"; the square after the cut scores 0.40: within half the
    # peak's height above the background (down to 0.30) but not within 15 % of it (0.475).
    samples = [Second(t, 0.55, continuity=0.97) for t in range(3)] + [Second(t, 0.40, continuity=0.97) for t in range(3, 6)]
    samples[3].continuity = 0.5  # the frames change here
    cut = merge_seconds(1, samples, interval=1.0, background=0.05, min_peak=0.05, duration=6.0, shot_continuity=0.83)
    assert [(m.start, m.end) for m in cut] == [(0, 3.0), (3, 6.0)]
    samples[3].continuity = 0.95  # the same scores within one shot stay one moment
    one_shot = merge_seconds(1, samples, interval=1.0, background=0.05, min_peak=0.05, duration=6.0, shot_continuity=0.83)
    assert [(m.start, m.end) for m in one_shot] == [(0, 6.0)]


def test_with_stored_shots_a_moment_stays_in_its_shot_unless_the_next_one_matches_too():
    # "a red circle": a red circle (0.55), a purple circle (0.40), a red square (0.40), cuts at 4.5 and 8.5.
    samples = seconds([0.55] * 4 + [0.40] * 4 + [0.40] * 4)
    shots = [ShotSpan(0, 0.0, 4.5), ShotSpan(1, 4.5, 8.5), ShotSpan(2, 8.5, 12.0)]
    moments = merge_seconds(1, samples, interval=1.0, background=0.05, min_peak=0.05, duration=12.0, shots=shots,
                            match_floor=0.42)
    # The circle's moment snaps to its cut; the near misses on either side of the next cut stay apart.
    assert [(m.start, m.end) for m in moments] == [(0.0, 4.5), (4.5, 8.5), (8.5, 12.0)]
    assert moments[0].shots == ((0.0, 4.5),)
    # Two shots that both match (clear the floor) make one moment across their cut.
    both = merge_seconds(1, seconds([0.55] * 4 + [0.50] * 4), interval=1.0, background=0.05, min_peak=0.05,
                         duration=8.0, shots=shots[:2], match_floor=0.42)
    assert [(m.start, m.end) for m in both] == [(0.0, 8.0)]
    assert both[0].shots == ((0.0, 4.5), (4.5, 8.0))
    # A near miss that clears the floor (0.45) but scores well under the peak's shot is a shot of its own.
    near_miss = merge_seconds(1, seconds([0.55] * 4 + [0.45] * 4), interval=1.0, background=0.05, min_peak=0.05,
                              duration=8.0, shots=shots[:2], match_floor=0.42)
    assert [(m.start, m.end) for m in near_miss] == [(0.0, 4.5), (4.5, 8.0)]


def test_without_stored_shots_the_frames_judge_the_cuts_as_before():
    samples = seconds([0.55] * 4 + [0.40] * 4)  # no continuity figures, no shots: one moment, as always
    assert [(m.start, m.end) for m in merge_seconds(1, samples, interval=1.0, background=0.05, min_peak=0.05,
                                                    duration=8.0, match_floor=0.42)] == [(0, 8.0)]


def test_a_described_shot_becomes_one_moment_and_an_editors_words_are_an_answer():
    samples = seconds([0.20, 0.21, 0.35, 0.20, 0.10, 0.10])
    shots = [ShotSpan(0, 0.0, 4.0), ShotSpan(1, 4.0, 6.0)]
    grown = merge_seconds(1, samples, interval=1.0, background=0.1, min_peak=0.1, duration=6.0, shots=shots,
                          match_floor=0.42)
    edited = ShotMatch(asset_id=1, index=0, start=0.0, end=4.0, strength=1.0, edited=True)
    moments = describe_shots(grown, samples, matches=[edited], interval=1.0, duration=6.0)
    described = [m for m in moments if m.described]
    assert [(m.start, m.end, m.best_time) for m in described] == [(0.0, 4.0, 2.0)]
    fuse(moments, spread=0.4)
    assert described[0].parts["description_bonus"] == pytest.approx(0.4)
    good, weak = answers(rank(moments), floor=0.42, understood=False)
    assert good == described and not weak
    generated = ShotMatch(asset_id=1, index=0, start=0.0, end=4.0, strength=1.0, edited=False)
    [lifted] = [m for m in describe_shots(grown, samples, matches=[generated], interval=1.0, duration=6.0) if m.description]
    assert 0 < lifted.description < 1 and not lifted.described
    # A filter (a person on screen) kept only seconds 1-2 of the described shot: the moment spans those.
    kept = [s for s in samples if s.time in (1, 2)] + samples[4:]
    [clipped] = [m for m in describe_shots([], kept, matches=[edited], interval=1.0, duration=6.0) if m.described]
    assert (clipped.start, clipped.end) == (1.0, 3.0)


def test_when_nothing_matches_score_noise_does_not_cut_one_shot_into_pieces():
    noisy = [Second(t, score, continuity=0.97) for t, score in enumerate([-0.24, -0.25, -0.27, -0.25, -0.26])]
    [whole] = merge_seconds(1, noisy, interval=1.0, background=-0.28, min_peak=-0.3, duration=5.0,
                            shot_continuity=0.83, spread=0.5)
    assert (whole.start, whole.end) == (0, 5.0)
    assert len(merge_seconds(1, noisy, interval=1.0, background=-0.28, min_peak=-0.3, duration=5.0,
                             shot_continuity=0.83)) > 1  # without the model's spread: pieces


def test_only_moments_above_the_floor_are_answers_and_otherwise_the_closest_few_are_weak():
    good, poor = moment(1, 0.6), moment(2, 0.2)
    assert answers([good, poor], floor=0.3) == ([good], False)
    nothing_good = [moment(i, 0.2 - i * 0.01) for i in range(8)]
    shown, weak = answers(nothing_good, floor=0.3)
    assert weak and shown == nothing_good[:5]


def test_background_is_the_lower_quartile():
    assert background_level([0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) == 0.3


def moment(asset_id, visual, start=0.0, end=5.0):
    m = Moment(asset_id=asset_id, start=start, end=end, best_time=start, visual=visual)
    fuse([m], spread=0.2)
    return m


def test_text_and_tag_matches_lift_by_a_share_of_the_models_spread():
    plain, titled = moment(1, 0.5), Moment(asset_id=2, start=0, end=5, best_time=0, visual=0.5, text=1.0, tag=0.5)
    fuse([titled], spread=0.2)
    assert titled.score == pytest.approx(plain.score + 0.6 * 0.2 + 0.4 * 0.2 * 0.5)


def event(asset_id, action, similarity=1.0, start=0.0, end=5.0, age=0.0):
    return FeedbackEvent(asset_id=asset_id, start=start, end=end, action=action, age_days=age, query_similarity=similarity)


def test_one_relevant_lifts_a_lower_moment_to_the_top_and_one_irrelevant_sinks_the_top():
    moments = [moment(i, 0.6 - i * 0.01) for i in range(20)]
    apply_feedback(moments, [event(15, "relevant"), event(0, "irrelevant")], radius=0.8, floor=0.3, spread=0.2)
    order = [m.asset_id for m in rank(moments)]
    assert order[0] == 15
    assert order.index(0) >= 5


def test_clicks_count_less_than_judgements_and_fade():
    m = moment(1, 0.5)
    fresh = feedback_strength([event(1, "click")], m, radius=0.8)
    old = feedback_strength([event(1, "click", age=28)], m, radius=0.8)
    assert 0 < old < fresh < feedback_strength([event(1, "relevant")], m, radius=0.8)
    assert old == pytest.approx(fresh / 4)


def test_feedback_carries_to_similar_queries_only():
    assert feedback_kernel(1.0, radius=0.8) == 1.0
    assert 0 < feedback_kernel(0.9, radius=0.8) < 1
    assert feedback_kernel(0.7, radius=0.8) == 0.0


def test_feedback_never_lifts_a_moment_under_the_relevance_floor():
    moments = [moment(1, 0.6), moment(2, 0.2)]
    apply_feedback(moments, [event(2, "relevant")], radius=0.8, floor=0.3, spread=0.2)
    assert [m.asset_id for m in rank(moments)] == [1, 2]


def test_feedback_applies_to_the_judged_time_range_only():
    early, late = moment(1, 0.5, 0, 5), moment(1, 0.49, 20, 25)
    apply_feedback([early, late], [event(1, "relevant", start=20, end=25)], radius=0.8, floor=0.3, spread=0.2)
    assert late.feedback > 0 and early.feedback == 0
