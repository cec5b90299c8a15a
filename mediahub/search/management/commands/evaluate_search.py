import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from mediahub.assets.models import Asset
from mediahub.search import selectors, services
from mediahub.search.evaluation import IOU_THRESHOLD, Span, best_iou, mean_scores, score_query
from mediahub.search.models import Feedback

JUDGED_PER_QUERY = 10


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = ("Measure search quality against a ground-truth file of queries and relevant (asset, start, end) ranges; "
            "then simulate a user judging the top results and measure again (the simulated feedback is rolled back).")

    def add_arguments(self, parser):
        parser.add_argument("ground_truth", type=Path)
        parser.add_argument("--k", default="1,5,10", help="cut-offs for precision/recall/F1")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the figures as JSON")
        parser.add_argument("--api", metavar="URL", help="query a running server's GET /api/search instead "
                            "(e.g. http://127.0.0.1:8000; needs --token; no feedback is simulated)")
        parser.add_argument("--token", help="API token for --api (manage.py create_api_token USER)")

    def handle(self, *args, ground_truth: Path, k: str, as_json: bool, api: str | None, token: str | None, **options):
        truth = _load(ground_truth)
        ks = tuple(int(v) for v in k.split(","))
        ids = dict(Asset.objects.values_list("original_filename", "pk"))
        missing = {r["asset"] for q in truth["queries"] for r in q["relevant"]} - set(ids)
        if missing:
            raise CommandError(f"{len(missing)} ground-truth files are not in the library, e.g. {sorted(missing)[0]}.")
        names = {pk: name for name, pk in ids.items()}
        if api:
            if not token:
                raise CommandError("--api needs --token (create one with manage.py create_api_token USER).")
            self._report(_ApiRunner(api, token, names, limit=max(ks)).evaluate(truth["queries"], ks), None, as_json)
            return
        spec = selectors.active_clip_spec()
        model, calibration = selectors.search_model(spec=spec)
        if model is None:
            raise CommandError(f"Nothing is indexed with {spec.key}; ingest the library first.")
        runner = _Runner(spec, model, calibration, names, limit=max(ks))
        before = runner.evaluate(truth["queries"], ks)
        after = None
        try:
            with transaction.atomic():
                runner.judge_top(truth["queries"])
                after = runner.evaluate(truth["queries"], ks)
                raise _Rollback
        except _Rollback:
            pass
        self._report(before, after, as_json)

    def _report(self, before: dict, after: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"before_feedback": before, "after_feedback": after}, indent=1))
            return
        groups = sorted(before)
        metrics = list(before[groups[0]])
        self.stdout.write("| group | " + " | ".join(metrics) + " |")
        self.stdout.write("|---" * (len(metrics) + 1) + "|")
        for label, results in (("", before), (" + feedback", after)):
            if results is None:
                continue
            for group in groups:
                row = [f"{results[group][m]:.3f}" if m != "queries" else str(results[group][m]) for m in metrics]
                self.stdout.write(f"| {group}{label} | " + " | ".join(row) + " |")


def _load(path: Path) -> dict:
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(truth["queries"], list)
        return truth
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        raise CommandError(f"{path} is not a ground-truth file: {exc}") from exc


class _Evaluator:
    names: dict[int, str]

    def search(self, query: str) -> list[Span]:
        raise NotImplementedError

    def evaluate(self, queries: list[dict], ks) -> dict:
        by_group: dict[str, list] = {}
        for q in queries:
            relevant = [Span(r["asset"], r["start"], r["end"]) for r in q["relevant"]]
            scores = score_query(self.search(q["query"]), relevant, ks)
            by_group.setdefault(f"{q.get('group', 'all')} {q.get('lang', '')}".strip(), []).append(scores)
            by_group.setdefault("all", []).append(scores)
        return {group: mean_scores(scores, ks) for group, scores in by_group.items()}


class _ApiRunner(_Evaluator):
    """Runs the ground-truth queries through a server's GET /api/search."""

    def __init__(self, base_url: str, token: str, names: dict[int, str], limit: int):
        self.url, self.headers = base_url.rstrip("/") + "/api/search", {"Authorization": f"Token {token}"}
        self.names, self.limit = names, limit

    def search(self, query: str) -> list[Span]:
        address = f"{self.url}?{urllib.parse.urlencode({'q': query, 'limit': self.limit})}"
        try:
            with urllib.request.urlopen(urllib.request.Request(address, headers=self.headers), timeout=60) as response:
                body = json.load(response)
        except (urllib.error.URLError, ValueError) as exc:
            raise CommandError(f"GET /api/search failed: {exc}") from exc
        return [Span(self.names.get(r["asset_id"], ""), r["start"], r["end"]) for r in body["results"]]


class _Runner(_Evaluator):
    """Runs the ground-truth queries through the same search service the API uses."""

    def __init__(self, spec, model, calibration, names: dict[int, str], limit: int):
        self.spec, self.model, self.calibration, self.names, self.limit = spec, model, calibration, names, limit
        self.last_outcomes = {}

    def search(self, query: str) -> list[Span]:
        vector = selectors.text_query_vector(spec=self.spec, text=query)
        outcome = services.search_run(user=None, vector=vector, model=self.model, calibration=self.calibration,
                                      kind="text", query=query, filters=selectors.SearchFilters(), limit=self.limit)
        self.last_outcomes[query] = outcome
        return [Span(self.names.get(m.asset_id, ""), m.start, m.end) for m in outcome.moments]

    def judge_top(self, queries: list[dict]) -> None:
        """A user marks each of the top results of every query relevant or irrelevant."""
        for q in queries:
            relevant = [Span(r["asset"], r["start"], r["end"]) for r in q["relevant"]]
            outcome = self.last_outcomes[q["query"]]
            for moment in outcome.moments[:JUDGED_PER_QUERY]:
                found = Span(self.names.get(moment.asset_id, ""), moment.start, moment.end)
                action = Feedback.Action.RELEVANT if best_iou(found, relevant) >= IOU_THRESHOLD else Feedback.Action.IRRELEVANT
                services.feedback_record(user=None, search=outcome.search, asset_id=moment.asset_id,
                                         start=moment.start, end=moment.end, action=action)
