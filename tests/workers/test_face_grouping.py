"""Grouping face tracks into people on constructed embeddings (workers/ml/face_grouping.py)."""

import numpy as np

from tests.people.embeddings import faces_of, identity
from workers.ml.face_grouping import Group, TrackFaces, distances, track_place, tracks_regroup

THRESHOLD = 0.5


def people_of(answer: dict, keys) -> set:
    return {answer[key] for key in keys}


def make_tracks(rng, centre, count, *, first_key, faces=3, asset_base=100, **fields):
    """`count` tracks of one identity, each in an asset of its own."""
    return [TrackFaces(key=first_key + i, asset=asset_base + first_key + i, start=0.0, end=float(faces),
                       vectors=faces_of(centre, faces, rng), **fields) for i in range(count)]


def test_two_tight_groups_and_an_outlier_make_two_people_and_one_waiting_track():
    rng = np.random.default_rng(7)
    alice, bob, stranger = identity(rng), identity(rng), identity(rng)
    alices = make_tracks(rng, alice, 4, first_key=1)
    bobs = make_tracks(rng, bob, 3, first_key=10)
    outlier = make_tracks(rng, stranger, 1, first_key=20)

    answer = tracks_regroup([*alices, *bobs, *outlier], threshold=THRESHOLD)

    alice_people, bob_people = people_of(answer, [t.key for t in alices]), people_of(answer, [t.key for t in bobs])
    assert len(alice_people) == 1 and len(bob_people) == 1 and alice_people != bob_people
    assert None not in alice_people | bob_people
    assert answer[20] is None  # seen once: waits until someone else looks like them


def test_two_faces_in_one_frame_are_two_people_even_when_alike():
    rng = np.random.default_rng(8)
    twin = identity(rng)
    # Look-alikes side by side in one asset (overlapping tracks), and the same face again elsewhere.
    left = TrackFaces(key=1, asset=1, start=0, end=4, vectors=faces_of(twin, 4, rng))
    right = TrackFaces(key=2, asset=1, start=2, end=6, vectors=faces_of(twin, 4, rng))
    later = make_tracks(rng, twin, 2, first_key=3)

    answer = tracks_regroup([left, right, *later], threshold=THRESHOLD)

    assert answer[1] is not None and answer[2] != answer[1]  # one joins the others, one waits or is someone else


def test_a_track_after_the_first_in_the_same_asset_may_join_the_same_person():
    rng = np.random.default_rng(9)
    anchor = identity(rng)
    first = TrackFaces(key=1, asset=1, start=0, end=3, vectors=faces_of(anchor, 3, rng))
    second = TrackFaces(key=2, asset=1, start=5, end=8, vectors=faces_of(anchor, 3, rng))  # after a cut
    answer = tracks_regroup([first, second], threshold=THRESHOLD)
    assert answer[1] == answer[2] is not None


def test_a_chain_of_near_neighbours_does_not_merge_two_people():
    rng = np.random.default_rng(10)
    alice, bob = identity(rng), identity(rng)
    alices = make_tracks(rng, alice, 3, first_key=1)
    bobs = make_tracks(rng, bob, 3, first_key=10)
    # Single faces 0.35 apart on the line from Alice to Bob: each near its neighbours only.
    steps = int(np.linalg.norm(bob - alice) / 0.35)
    chain = [TrackFaces(key=30 + i, asset=300 + i, start=0, end=0,
                        vectors=(alice + (bob - alice) * (i / steps))[None, :].astype(np.float32))
             for i in range(1, steps)]
    everything = [*alices, *bobs, *chain]
    all_vectors = np.concatenate([t.vectors for t in everything])
    assert _single_linkage_connected(all_vectors, THRESHOLD)  # a looser rule would make one person of all

    answer = tracks_regroup(everything, threshold=THRESHOLD)

    assert people_of(answer, [t.key for t in alices]).isdisjoint(people_of(answer, [t.key for t in bobs]))
    assert len(people_of(answer, [t.key for t in alices])) == 1 and len(people_of(answer, [t.key for t in bobs])) == 1


def _single_linkage_connected(vectors, threshold) -> bool:
    close = distances(vectors, vectors) <= threshold
    reached, frontier = {0}, [0]
    while frontier:
        for other in np.flatnonzero(close[frontier.pop()]):
            if other not in reached:
                reached.add(int(other))
                frontier.append(int(other))
    return len(reached) == len(vectors)


def test_fixed_tracks_stay_and_keep_their_person_and_groups_keep_the_ids_they_overlap():
    rng = np.random.default_rng(11)
    alice, bob = identity(rng), identity(rng)
    # Person 7 is Alice; an editor placed one of Bob's tracks in person 7 by hand (fixed).
    alices = make_tracks(rng, alice, 3, first_key=1, person=7)
    bobs = make_tracks(rng, bob, 3, first_key=10, person=8)
    misplaced = TrackFaces(key=20, asset=500, start=0, end=2, vectors=faces_of(bob, 3, rng), person=7, fixed=True)

    answer = tracks_regroup([*alices, *bobs, misplaced], threshold=THRESHOLD)

    assert answer[20] == 7
    assert people_of(answer, [1, 2, 3]) == {7}
    assert people_of(answer, [10, 11, 12]) == {8}


def test_a_rejected_track_never_joins_that_person_again():
    rng = np.random.default_rng(12)
    alice = identity(rng)
    alices = make_tracks(rng, alice, 3, first_key=1, person=7)
    # Looks like Alice, but an editor said "not this person".
    lookalike = TrackFaces(key=9, asset=900, start=0, end=2, vectors=faces_of(alice, 3, rng), rejected=frozenset({7}))

    answer = tracks_regroup([*alices, lookalike], threshold=THRESHOLD)

    assert people_of(answer, [1, 2, 3]) == {7} and answer[9] != 7


def test_new_groups_get_new_ids_and_regrouping_again_gives_the_same_answer():
    rng = np.random.default_rng(13)
    tracks = make_tracks(rng, identity(rng), 3, first_key=1) + make_tracks(rng, identity(rng), 3, first_key=10)
    answer = tracks_regroup(tracks, threshold=THRESHOLD)
    assert sorted(set(answer.values())) == [-2, -1]
    assert tracks_regroup(tracks, threshold=THRESHOLD) == answer


def test_a_new_track_joins_only_a_person_it_is_close_to_from_several_tracks():
    rng = np.random.default_rng(14)
    alice = identity(rng)
    person = Group(person=7, tracks=make_tracks(rng, alice, 2, first_key=1))
    near = TrackFaces(key=5, asset=50, start=0, end=1, vectors=faces_of(alice, 2, rng))
    # Close to a single face of one of Alice's tracks only: not enough support.
    edge = person.tracks[0].vectors[:1] + 0.48 * identity(rng)
    far = TrackFaces(key=6, asset=60, start=0, end=1, vectors=edge.astype(np.float32))
    waiting: list = []

    assert track_place(near, [person], waiting, threshold=THRESHOLD) is person
    assert track_place(far, [person], waiting, threshold=THRESHOLD) is None and waiting == [far]
