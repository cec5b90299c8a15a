"""Log lines are JSON objects; those of a request carry its id, which the answer returns in X-Request-ID."""

import io
import json
import logging

import pytest


@pytest.fixture
def console_log():
    """What the configured console handler (settings.LOGGING) writes during the test."""
    handler = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def not_found_logged(console_log, response) -> dict:
    """The line Django logs for an answer of 404, which must be the request's own."""
    (line,) = [line for line in json_lines(console_log.getvalue()) if line["logger"] == "django.request"]
    assert line["level"] == "WARNING" and "/api/no-such-thing" in line["message"] and line["time"]
    return line


@pytest.mark.django_db
def test_each_request_gets_an_id_in_its_answer_and_its_log_lines(viewer_api, console_log):
    first = viewer_api.get("/api/no-such-thing")
    assert first.status_code == 404
    assert not_found_logged(console_log, first)["request_id"] == first["X-Request-ID"]
    second = viewer_api.get("/api/health")
    assert len(first["X-Request-ID"]) >= 32 and second["X-Request-ID"] != first["X-Request-ID"]


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept(viewer_api, console_log):
    incoming = "7d1c3f0e-94b2-4c55-9a1e-2f6b8d0c4a17"
    response = viewer_api.get("/api/no-such-thing", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming
    assert not_found_logged(console_log, response)["request_id"] == incoming


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ['x" injected="1', "a" * 129, "line\tbreak", ""])
def test_a_malformed_or_too_long_request_id_is_replaced(viewer_api, console_log, incoming):
    response = viewer_api.get("/api/no-such-thing", headers={"X-Request-ID": incoming})
    replaced = response["X-Request-ID"]
    assert replaced and replaced != incoming
    assert not_found_logged(console_log, response)["request_id"] == replaced


def test_lines_outside_a_request_or_task_carry_no_ids(console_log):
    logging.getLogger("mediahub.test").info("a line of its own")
    (line,) = json_lines(console_log.getvalue())
    assert line["message"] == "a line of its own" and line["logger"] == "mediahub.test"
    assert not {"request_id", "asset_id", "run_id"} & line.keys()
