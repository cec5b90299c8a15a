"""Interface words the pages and app.js show for values stored in English (statuses, kinds), and the
sentences app.js draws itself, in the page's language."""

from django.utils.translation import gettext, gettext_lazy as _

STATUS_LABELS = {"queued": _("queued"), "processing": _("processing"), "ready": _("ready"), "failed": _("failed")}
KIND_LABELS = {"video": _("video"), "image": _("image")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def script_text() -> dict:
    """What app.js shows in words (base.html hands it over as JSON; app.js's `text()` reads it).
    `{name}` marks a value app.js fills in."""
    return {
        "status": {key: str(label) for key, label in STATUS_LABELS.items()},
        "uploading": gettext("uploading…"),
        "processing_stage": gettext("processing ({stage})…"),
        "starting": gettext("starting"),
        "duplicate": gettext("Already in the library as “{title}” ({status}); nothing new was created."),
        "upload_failed": gettext("Upload failed (HTTP {status})."),
        "upload_interrupted": gettext("The upload was interrupted; check the connection and try again."),
        "judgement_failed": gettext("Could not save the judgement; try again."),
        "working": gettext("Working…"),
        "nothing_changed": gettext("Nothing was changed (HTTP {status}); reload the page and try again."),
        "board_not_redrawn": gettext("Saved, but the board could not be shown again; reload the page."),
    }
