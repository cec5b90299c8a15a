"""Faces with the real dlib detector and descriptor on real photos (dlib's Johns, the astronaut)."""

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from tests.media_files import (JOHNS, PhotoShot, astronaut_photo, constant_rate_times, john_photo, write_frames,
                               write_photo_video)
from workers.media.frames import FRAME_SHORT_SIDE, sample_image, sample_video
from workers.ml import faces
from workers.ml.faces import SAME_PERSON_DISTANCE, FaceModelsUnavailable, face_distance, scan_faces

ASTRONAUT_FACE = (175, 76, 90, 90)  # x, y, w, h of Eileen Collins' face in skimage's astronaut.png


def _one_face(image: Image.Image):
    tracks = scan_faces([(0.0, image)], source_size=image.size, threads=1)
    assert len(tracks) == 1, [t.box for t in tracks]
    return tracks[0]


def _centre(box):
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def test_the_astronaut_gets_one_plausible_box_with_a_descriptor_and_chip():
    track = _one_face(astronaut_photo())  # her mission patch is a weak false detection: not a track
    x, y, w, h = track.box
    assert abs(_centre(track.box)[0] - 220) < 20 and abs(_centre(track.box)[1] - 121) < 25
    assert 60 <= w <= 130 and 60 <= h <= 130
    (sighting,) = track.described
    assert sighting.vector.shape == (128,) and sighting.vector.dtype == np.float32
    assert sighting.chip.size == (150, 150) and sighting.chip.mode == "RGB"
    assert track.best is sighting and sighting.sharpness > 0


def test_the_same_face_changed_stays_the_same_person():
    original = astronaut_photo()
    base = _one_face(original).described[0].vector
    variants = [original.resize((256, 256), Image.Resampling.BILINEAR),
                original.resize((1024, 1024), Image.Resampling.BICUBIC),
                ImageEnhance.Brightness(original).enhance(0.7),
                ImageEnhance.Brightness(original).enhance(1.3),
                original.rotate(10, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))]
    for variant in variants:
        assert face_distance(base, _one_face(variant).described[0].vector) < SAME_PERSON_DISTANCE


def _john(name: str, number: int = 0) -> np.ndarray:
    photo = john_photo(name, number)
    canvas = Image.new("RGB", (750, 500), (128, 128, 128))
    canvas.paste(photo.resize((375, 375), Image.Resampling.BICUBIC), (187, 62))
    return _one_face(canvas).described[0].vector


def test_different_johns_are_different_people_and_one_john_is_one():
    first, second, third = (_john(name) for name in JOHNS[:3])
    assert face_distance(first, second) > SAME_PERSON_DISTANCE
    assert face_distance(second, third) > SAME_PERSON_DISTANCE
    assert face_distance(first, third) > SAME_PERSON_DISTANCE
    assert face_distance(first, _john(JOHNS[0], 4)) < SAME_PERSON_DISTANCE


def test_a_photo_then_another_person_makes_two_tracks_with_their_times_and_boxes(tmp_path):
    # The two photos stand in the same place on the same grey: only the faces tell the shots apart.
    shots = [PhotoShot(3, ((john_photo(JOHNS[0]), (220, 60), 250, 0),)),
             PhotoShot(3, ((john_photo(JOHNS[1]), (220, 60), 250, 0),))]
    path = write_photo_video(tmp_path / "two.mp4", shots, width=640, height=360)
    frames = [(f.time, f.face_image) for f in sample_video(path, face_short_side=240)]
    assert frames[0][1].size == (426, 240)
    tracks = scan_faces(frames, source_size=(640, 360))
    assert [(t.start, t.end) for t in tracks] == [(0.0, 2.0), (3.0, 5.0)]
    for track in tracks:
        assert [s.time for s in track.sightings] == [track.start + i for i in range(3)]
        x, y, w, h = track.box  # in source pixels (the face frames are 426×240): the photo spans x 220–470, y 60–310
        assert 210 <= x and x + w <= 480 and 50 <= y and y + h <= 320 and w > 100  # on the photo (its face fills it)
    assert face_distance(tracks[0].described[0].vector, tracks[1].described[0].vector) > SAME_PERSON_DISTANCE


def test_someone_else_in_the_same_place_without_a_cut_starts_a_new_track(tmp_path):
    # Small photos on a large grey: the picture barely changes, so only the faces can tell.
    shots = [PhotoShot(3, ((john_photo(JOHNS[2]), (250, 100), 150, 0),)),
             PhotoShot(3, ((john_photo(JOHNS[3]), (250, 100), 150, 0),))]
    path = write_photo_video(tmp_path / "swap.mp4", shots, width=640, height=360)
    stats = {}
    tracks = scan_faces([(f.time, f.face_image) for f in sample_video(path, face_short_side=360)],
                        source_size=(640, 360), stats=stats)
    assert stats["full"] == 1  # no cut was seen
    assert [(t.start, t.end) for t in tracks] == [(0.0, 2.0), (3.0, 5.0)]


def test_a_face_coming_in_while_the_camera_pans_is_tracked_from_when_it_came(tmp_path):
    shot = PhotoShot(7, ((john_photo(JOHNS[2]), (60, 80), 220, 0), (john_photo(JOHNS[3]), (380, 80), 220, 2)),
                     background="texture", pan=(6, 0), seed=7)
    path = write_photo_video(tmp_path / "pan.mp4", [shot], width=640, height=360)
    tracks = scan_faces([(f.time, f.face_image) for f in sample_video(path, face_short_side=360)], source_size=(640, 360))
    assert [(t.start, t.end) for t in tracks] == [(0.0, 6.0), (2.0, 6.0)]
    assert tracks[0].box[0] < 320 < tracks[1].box[0]
    # the pan moves the picture left: the boxes follow it
    assert tracks[0].sightings[-1].box[0] < tracks[0].sightings[0].box[0] - 20


def test_two_faces_in_one_frame_are_two_tracks(tmp_path):
    shot = PhotoShot(3, ((john_photo(JOHNS[3]), (40, 60), 250, 0), (john_photo(JOHNS[4]), (350, 60), 250, 0)))
    path = write_photo_video(tmp_path / "pair.mp4", [shot], width=640, height=360)
    tracks = scan_faces([(f.time, f.face_image) for f in sample_video(path, face_short_side=1080)], source_size=(640, 360))
    assert len(tracks) == 2
    assert all((t.start, t.end, len(t.sightings)) == (0.0, 2.0, 3) for t in tracks)
    left, right = tracks
    assert left.box[0] + left.box[2] < right.box[0]
    assert face_distance(left.described[0].vector, right.described[0].vector) > SAME_PERSON_DISTANCE


def test_no_faces_no_tracks(tmp_path):
    path = write_photo_video(tmp_path / "empty.mp4", [PhotoShot(3, background="texture", pan=(10, 0))])
    assert scan_faces([(f.time, f.face_image) for f in sample_video(path, face_short_side=1080)],
                      source_size=(640, 360)) == []


def test_an_image_gets_its_face_picture_and_its_face(tmp_path):
    path = tmp_path / "astronaut.jpg"
    astronaut_photo().resize((1024, 1024)).save(path, quality=92)
    sample = sample_image(path, face_short_side=600)
    assert sample.image.size == (FRAME_SHORT_SIDE, FRAME_SHORT_SIDE) and sample.face_image.size == (600, 600)
    (track,) = scan_faces([(0.0, sample.face_image)], source_size=(1024, 1024))
    assert (track.start, track.end) == (0.0, 0.0)
    expected = [v * 2 for v in ASTRONAUT_FACE]
    assert abs(_centre(track.box)[0] - _centre(expected)[0]) < 40 and abs(_centre(track.box)[1] - _centre(expected)[1]) < 50
    assert sample_image(path).face_image is None


def test_face_frames_have_the_asked_size_and_the_display_orientation(tmp_path):
    path = write_frames(tmp_path / "phone.mp4", constant_rate_times(2), width=320, height=240, rotation=90)
    plain = list(sample_video(path))
    assert all(f.face_image is None for f in plain)
    small = list(sample_video(path, face_short_side=200))
    large = list(sample_video(path, face_short_side=1080))
    assert [f.time for f in small] == [f.time for f in plain]
    assert small[0].face_image.size == (200, 266) and large[0].face_image.size == (240, 320)  # never above the source
    for with_faces, without in zip(small, plain):
        assert with_faces.image.size == without.image.size
        shrunk = np.asarray(with_faces.face_image.resize(without.image.size, Image.Resampling.BILINEAR), np.float32)
        assert np.abs(shrunk - np.asarray(without.image, np.float32)).mean() < 8  # the same picture, the same way up


def test_missing_weights_say_what_to_install(monkeypatch):
    real_find_spec = faces.importlib.util.find_spec
    monkeypatch.setattr(faces.importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real_find_spec(name, *a))
    with pytest.raises(FaceModelsUnavailable, match="pip install dlib-bin.*face_recognition_models"):
        faces.weights_folder()


@pytest.mark.parametrize("name", ["hdr_pq.mp4", "phone_portrait_hevc_vfr.mp4"])
def test_face_frames_of_hdr_and_proxied_footage_look_like_the_samples(tmp_path, name):
    from tests.media_files import CORPUS, write_footage

    footage = next(f for f in CORPUS if f.name == name)
    path = write_footage(tmp_path, footage)
    with_faces = list(sample_video(path, face_short_side=1080, proxy_path=tmp_path / "proxy.mp4"))
    for sample in with_faces:
        assert min(sample.face_image.size) == min(footage.width, footage.height)
        assert (sample.face_image.width > sample.face_image.height) == (footage.width > footage.height)
        truth = footage.render(sample.time)  # the SDR picture that was encoded, as displayed
        face = np.asarray(sample.face_image.resize((truth.shape[1], truth.shape[0])), np.float32)
        assert np.abs(face - truth).mean() < 20  # tone-mapped and turned like the sample


def test_the_descriptor_run_by_torch_gives_dlibs_own_vectors():
    import dlib

    photo = astronaut_photo()
    sighting = scan_faces([(0.0, photo)], source_size=photo.size)[0].described[0]
    dlib_network = dlib.face_recognition_model_v1(str(faces.weights_folder() / faces.DESCRIBER_WEIGHTS))
    by_dlib = np.asarray(dlib_network.compute_face_descriptor(np.asarray(sighting.chip)), dtype=np.float32)
    assert np.abs(sighting.vector - by_dlib).max() < 1e-4


def test_damaged_descriptor_weights_say_what_to_reinstall(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    real = faces.weights_folder()
    (folder / "shape_predictor_5_face_landmarks.dat").write_bytes((real / "shape_predictor_5_face_landmarks.dat").read_bytes())
    (folder / faces.DESCRIBER_WEIGHTS).write_bytes((real / faces.DESCRIBER_WEIGHTS).read_bytes()[:200_000])  # cut off
    monkeypatch.setattr(faces, "weights_folder", lambda: folder)
    monkeypatch.setattr(faces, "_models", None)
    with pytest.raises(FaceModelsUnavailable, match="could not be loaded.*reinstall"):
        faces.load_face_models()
