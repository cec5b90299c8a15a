"""Search quality on the test-pattern evaluation library, with and without what shots add to search.

    .venv/bin/python bench/search_quality.py [--work var/search-quality] [--variants all]

Generates the library of bench/make_test_library.py (12 videos, 172 queries in English and
Chinese), ingests it in this process through the real pipeline (probe, frames and cuts, CLIP, tags,
shot descriptions, faces) with the demo model into a data dir of its own (kept between runs), and
runs `manage.py evaluate_search` on it once per variant, each in a transaction rolled back after:

- `as-ingested`: stored shots bound the moments, generated descriptions join the fusion;
- `no-descriptions`: the shots' descriptions blanked (shots bound the moments, no text signal);
- `no-shots`: the Shot rows deleted, as for assets indexed before shots were stored (the old rule:
  cuts judged from frame similarity);
- `share=X`: as ingested, with generated descriptions counting X of an editor's (the weight).

Prints a Markdown table per variant (all queries, then per group).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

METRICS = ("R@1 IoU>=0.5", "R@5 IoU>=0.5", "mean IoU@1", "P@1", "P@5", "R@10")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "search-quality")
    parser.add_argument("--variants", default="as-ingested,no-descriptions,no-shots",
                        help="comma-separated: as-ingested, no-descriptions, no-shots, share=X")
    return parser.parse_args()


def library_ingest(work: Path) -> Path:
    """The library's videos and ground truth (made once), ingested once; the ground truth's path."""
    from mediahub.assets.models import Asset
    from mediahub.assets.services import asset_create
    from workers import tasks  # noqa: F401  (registers the pipeline steps)
    from workers.pipeline import pipeline_signature

    videos, truth = work / "videos", work / "ground_truth.json"
    if not truth.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_test_library.py"), "--out", str(videos),
                        "--ground-truth", str(truth)], check=True, stdout=subprocess.DEVNULL)
    for path in sorted(videos.glob("*.mp4")):
        if Asset.objects.filter(original_filename=path.name, status=Asset.Status.READY).exists():
            continue
        with open(path, "rb") as source, mock.patch("mediahub.assets.services.pipeline_start"):
            asset = asset_create(source=source, filename=path.name, owner=None, title=path.stem).asset
        pipeline_signature(asset_id=asset.pk, run_id=asset.run_id, first_step="asset_probe").apply()
        asset.refresh_from_db()
        assert asset.status == Asset.Status.READY, asset.error
        print(f"ingested {path.name}", file=sys.stderr)
    return truth


class _Rollback(Exception):
    pass


def evaluate(truth: Path, variant: str) -> dict:
    from django.core.management import call_command
    from django.db import transaction

    from mediahub.search import ranking
    from mediahub.shots.models import Shot

    out, share = io.StringIO(), ranking.GENERATED_DESCRIPTION_SHARE
    try:
        with transaction.atomic():
            if variant == "no-shots":
                Shot.objects.all().delete()
            elif variant == "no-descriptions":
                Shot.objects.update(description_en="", description_zh="", edited_en="", edited_zh="")
            elif variant.startswith("share="):
                ranking.GENERATED_DESCRIPTION_SHARE = float(variant.split("=", 1)[1])
            elif variant != "as-ingested":
                raise SystemExit(f"unknown variant {variant!r}")
            call_command("evaluate_search", str(truth), "--json", stdout=out)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        ranking.GENERATED_DESCRIPTION_SHARE = share
    return json.loads(out.getvalue())


def demo_library_open(work: Path) -> Path:
    """Django on the work folder's own embedded services with the demo model, migrated, and the
    library ingested; the ground truth's path."""
    os.environ["MEDIAHUB_DATA_DIR"] = str(work / "data")
    os.environ["MEDIAHUB_CLIP_MODEL"] = "demo"
    for variable in ("DATABASE_URL", "REDIS_URL", "MEDIAHUB_CLIP_PRETRAINED"):
        os.environ.pop(variable, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    import django

    from mediahub import launch

    launch.services_attach(launch.data_dir_from_environment())  # explicit: settings start nothing
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return library_ingest(work)


def main() -> None:
    args = parse_args()
    truth = demo_library_open(args.work)
    for variant in args.variants.split(","):
        figures = evaluate(truth, variant)
        print(f"\n{variant}\n")
        print("| group | queries | " + " | ".join(METRICS) + " |")
        print("|---" * (len(METRICS) + 2) + "|")
        for label, results in (("", figures["before_feedback"]), (" + feedback", figures["after_feedback"])):
            for group in sorted(results, key=lambda g: (g != "all", g)):
                if label and group != "all":
                    continue
                row = results[group]
                print(f"| {group}{label} | {row['queries']} | " + " | ".join(f"{row[m]:.3f}" for m in METRICS) + " |")


if __name__ == "__main__":
    main()
