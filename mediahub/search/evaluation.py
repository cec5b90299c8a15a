"""Retrieval metrics for moment search: precision/recall/F1 at k and recall at temporal IoU."""

from __future__ import annotations

from dataclasses import dataclass

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class Span:
    asset: str
    start: float
    end: float


def temporal_iou(a: Span, b: Span) -> float:
    if a.asset != b.asset:
        return 0.0
    if a.start == a.end and b.start == b.end:  # images: the same instant or nothing
        return 1.0 if a.start == b.start else 0.0
    overlap = max(0.0, min(a.end, b.end) - max(a.start, b.start))
    union = max(a.end, b.end) - min(a.start, b.start)
    return overlap / union if union > 0 else 0.0


def best_iou(found: Span, relevant: list[Span]) -> float:
    return max((temporal_iou(found, r) for r in relevant), default=0.0)


@dataclass
class QueryScores:
    precision: dict[int, float]
    recall: dict[int, float]
    f1: dict[int, float]
    hit_at_1: float  # the first result matches a relevant range with IoU >= 0.5
    hit_at_5: float
    top1_iou: float


def score_query(results: list[Span], relevant: list[Span], ks: tuple[int, ...]) -> QueryScores:
    hits = [best_iou(r, relevant) >= IOU_THRESHOLD for r in results]
    precision, recall, f1 = {}, {}, {}
    for k in ks:
        top = results[:k]
        found = sum(any(temporal_iou(r, rel) >= IOU_THRESHOLD for r in top) for rel in relevant)
        precision[k] = sum(hits[:k]) / k
        recall[k] = found / len(relevant) if relevant else 0.0
        total = precision[k] + recall[k]
        f1[k] = 2 * precision[k] * recall[k] / total if total else 0.0
    return QueryScores(precision=precision, recall=recall, f1=f1, hit_at_1=float(any(hits[:1])),
                       hit_at_5=float(any(hits[:5])), top1_iou=best_iou(results[0], relevant) if results else 0.0)


def mean_scores(scores: list[QueryScores], ks: tuple[int, ...]) -> dict[str, float]:
    count = max(len(scores), 1)
    summary = {"queries": len(scores),
               "R@1 IoU>=0.5": sum(s.hit_at_1 for s in scores) / count,
               "R@5 IoU>=0.5": sum(s.hit_at_5 for s in scores) / count,
               "mean IoU@1": sum(s.top1_iou for s in scores) / count}
    for k in ks:
        summary[f"P@{k}"] = sum(s.precision[k] for s in scores) / count
        summary[f"R@{k}"] = sum(s.recall[k] for s in scores) / count
        summary[f"F1@{k}"] = sum(s.f1[k] for s in scores) / count
    return summary
