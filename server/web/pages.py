"""What the pages show, assembled from the services: metric formulas, the submission example,
the data list, leaderboard pages and the chart's geometry. No rule is decided here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from flask_babel import gettext

from scoring import Task
from server.storage import human_bytes

__all__ = [
    "metric_formula", "submission_example", "code_rules", "Page", "paginate", "board_rows", "chart", "PER_PAGE",
]

PER_PAGE = 50


def metric_formula(task: Task) -> dict[str, Any]:
    """The metric written out: the formula, the meaning of its symbols and the direction."""
    name = task.metric
    params = dict(task.metric_params)
    formulas: dict[str, tuple[str, str]] = {
        "root_mean_squared_error": (
            "RMSE = (1/K) Σₖ √( (1/N) Σᵢ (yᵢₖ − ŷᵢₖ)² )",
            gettext("the root mean squared error of each target column k, averaged over the K targets")),
        "mean_absolute_error": (
            "MAE = (1/K) Σₖ (1/N) Σᵢ |yᵢₖ − ŷᵢₖ|",
            gettext("the mean absolute error of each target column k, averaged over the K targets")),
        "lg_nrmse": (
            "Score = Σₖ wₖ · RMSEₖ / mean(|yₖ|)",
            gettext("each target's RMSE divided by the mean absolute true value, weighted: w = 1.2 for the "
                    "first 8 targets, 1.0 after")),
        "smape": (
            "SMAPE = 100 · (1/n) Σ 2·|A − P| / (|A| + |P|)",
            gettext("over every cell; a cell where both are 0 counts as 0; from 0 (perfect) to 200")),
        "psfa_score": (
            "PSFA = mean over groups m of [ 1 − (1/n) Σ_day Σᵢ |yᵢ − pᵢ| / max(yᵢ, pᵢ) · yᵢ / Σᵢ yᵢ ]",
            gettext("a sales-forecast accuracy per product group, weighted by each product's share of the "
                    "group's true sales of the day, then averaged over the groups")),
        "f1_macro": (
            "F1_macro = (1/C) Σ_c 2·TP_c / (2·TP_c + FP_c + FN_c)",
            gettext("the F1 score of each class, averaged over the classes present")),
        "f1_binary": (
            "F1 = 2·TP / (2·TP + FP + FN)",
            gettext("the F1 score of the positive class %(label)s", label=params.get("pos_label", 1))),
        "accuracy_score": (
            "Accuracy = (1/N) Σᵢ [ŷᵢ = yᵢ]",
            gettext("the fraction of rows whose predicted class is the true class")),
        "log_loss": (
            "LogLoss = −(1/N) Σᵢ [ yᵢ·log pᵢ + (1 − yᵢ)·log(1 − pᵢ) ]",
            gettext("the binary cross-entropy of the predicted probability of class 1")),
        "roc_auc_score": (
            "AUC = P( p(positive) > p(negative) )",
            gettext("the area under the ROC curve of the predicted probabilities")),
        "brier_skill_score": (
            "Score = max(0, 100000 · (1 − BS / (r·(1 − r)))),  BS = (1/N) Σᵢ (pᵢ − yᵢ)²",
            gettext("r is the share of positive rows; 100000 is perfect, 0 is no better than always "
                    "predicting r")),
    }
    formula, meaning = formulas.get(name, (name, ""))
    metric = task.get_metric()
    return {"name": name, "formula": formula, "meaning": meaning,
            "direction": gettext("higher is better") if metric.greater_is_better else gettext("lower is better")}


def _bundled_sample(task: Task) -> list[list[str]] | None:
    """The first rows of the bundled dataset's sample_submission.csv, when the task is one of them."""
    try:
        text = resources.files("datasets").joinpath(task.slug, "sample_submission.csv")
        with text.open("r", encoding="utf-8") as fh:
            rows = [row for _, row in zip(range(4), csv.reader(fh), strict=False)]
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None
    return rows if rows and rows[0] == task.columns else None


def _placeholder(target: Any) -> str:
    if target.kind == "class":
        return target.classes[0]
    if target.kind == "boolean":
        return "False"
    return "0.5" if target.kind == "probability" else "0"


def submission_example(task: Task, sample: list[list[str]] | None = None) -> dict[str, Any]:
    """The submission format: the header and first rows of sample_submission.csv as text."""
    rows = sample or _bundled_sample(task)
    if rows is None:
        rows = [task.columns] + [[f"<{task.id_column} {i}>", *(_placeholder(t) for t in task.targets)]
                                 for i in (1, 2, 3)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    # Neighbouring targets of the same kind share one line (Y_01 – Y_14: a finite number).
    groups: list[dict[str, Any]] = []
    for t in task.targets:
        if groups and (groups[-1]["kind"], groups[-1]["classes"]) == (t.kind, list(t.classes)):
            groups[-1]["last"] = t.name
        else:
            groups.append({"first": t.name, "last": t.name, "kind": t.kind, "classes": list(t.classes)})
    return {"text": out.getvalue() + "…\n", "columns": task.columns, "id_column": task.id_column,
            "targets": groups}


def code_rules(task: Task, max_upload_bytes: int) -> dict[str, Any] | None:
    """The limits of a code competition's submit.zip, written for people; None for a CSV task."""
    code = task.code if task.kind == "code" else None
    if code is None:
        return None
    return {"test_features": ", ".join(f"data/{name}" for name in code.test_features),
            "zip_size": human_bytes(min(code.zip_bytes, max_upload_bytes)),
            "unpacked_size": human_bytes(code.unpacked_bytes), "files": code.files,
            "install_seconds": code.install_seconds, "inference_seconds": code.inference_seconds,
            "memory_mb": code.memory_mb, "cpus": code.cpus, "output_size": human_bytes(code.output_bytes)}


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    first: int  # index of the first entry shown
    entries: list[dict[str, Any]]


def paginate(entries: list[dict[str, Any]], number: int, per_page: int = PER_PAGE) -> Page:
    pages = max(1, -(-len(entries) // per_page))
    number = min(max(1, number), pages)
    first = (number - 1) * per_page
    return Page(number, pages, first, entries[first:first + per_page])


def board_rows(entries: list[dict[str, Any]], precision: int, tz_name: str) -> list[dict[str, Any]]:
    """A page's entries with their numbers and times written the request's language's way
    (formatting is most of a page's cost, so the public board's rows are kept formatted)."""
    from server.web.i18n import local_datetime, number, score

    def count(value: int | None) -> str:
        return number(value) if value is not None else ""

    return [{"team": e["team"], "rank": count(e["rank"]), "score": score(e.get("score"), precision),
             "public_rank": count(e.get("public_rank")) or "–", "move": e.get("move"),
             "entries": count(e.get("entries")),
             "last_submission_at": local_datetime(e.get("last_submission_at"), tz_name, year=False)}
            for e in entries]


def page_of(entries: list[dict[str, Any]], team: str | None, per_page: int = PER_PAGE) -> int:
    """The page holding the team's row (1 when it has none)."""
    for i, entry in enumerate(entries):
        if team is not None and entry.get("team") == team:
            return i // per_page + 1
    return 1


WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 560, 260, 84, 12, 14, 34


def chart(history: list[dict[str, Any]], greater_is_better: bool, start: datetime, end: datetime) -> dict[str, Any] | None:
    """Polylines (step lines) of each team's best public score over time, in SVG coordinates.

    Better scores are drawn higher whichever the metric's direction.
    """
    points = [(t, v) for line in history for t, v in line["steps"]]
    if not points:
        return None
    # From the first scored submission (the weeks before it would be empty) to now or the end.
    del start
    t0 = min(t for t, _ in points)
    t1 = max(end, max(t for t, _ in points))
    span = max((t1 - t0).total_seconds(), 1.0)
    low, high = min(v for _, v in points), max(v for _, v in points)
    if high - low < 1e-12:  # one value: a band of ±10% around it
        margin = abs(high) * 0.1 or 1.0
        low, high = low - margin, high + margin
    inner_w, inner_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(t: datetime) -> float:
        return round(PAD_L + inner_w * (t - t0).total_seconds() / span, 1)

    def y(v: float) -> float:
        share = (v - low) / (high - low)
        return round(PAD_T + inner_h * ((1 - share) if greater_is_better else share), 1)

    lines = []
    for i, line in enumerate(history):
        coords: list[str] = []
        for j, (t, v) in enumerate(line["steps"]):
            if j:
                coords.append(f"{x(t)},{y(line['steps'][j - 1][1])}")
            coords.append(f"{x(t)},{y(v)}")
        _, last_v = line["steps"][-1]
        coords.append(f"{x(t1)},{y(last_v)}")
        lines.append({"team": line["team"], "points": " ".join(coords), "series": i % 8, "best": last_v,
                      "end_y": y(last_v)})
    top, bottom = (high, low) if greater_is_better else (low, high)
    return {"width": WIDTH, "height": HEIGHT, "lines": lines, "left": PAD_L, "right": WIDTH - PAD_R,
            "top": PAD_T, "bottom": HEIGHT - PAD_B, "best_label": top, "worst_label": bottom,
            "start": t0, "end": t1}
