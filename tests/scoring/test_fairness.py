"""The fair-ranking parts of scoring: per-row statistics, the bootstrap, the Ladder, rank confidence, probes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import metric_names, parse_task
from scoring.bootstrap import replicate_scores, resample_weights
from scoring.confidence import rank_confidence
from scoring.ladder import Evidence, judge
from scoring.predictions import Predictions
from scoring.probes import changed_fingerprints, changed_rows, is_near_constant, row_fingerprints
from scoring.rowstats import has_row_losses, row_losses, statistics_for

TARGETS = {
    "number": '[[targets]]\nnames = ["a", "b"]\nkind = "number"\n',
    "one_number": '[[targets]]\nname = "a"\nkind = "number"\n',
    "probability": '[[targets]]\nname = "p"\nkind = "probability"\n',
    "class": '[[targets]]\nname = "c"\nkind = "class"\nclasses = ["x", "y", "z"]\n',
    "boolean": '[[targets]]\nname = "c"\nkind = "boolean"\n',
}
KIND = {"lg_nrmse": "number", "psfa_score": "number", "smape": "number", "root_mean_squared_error": "number",
        "mean_absolute_error": "number", "f1_macro": "class", "f1_binary": "boolean", "accuracy_score": "class",
        "log_loss": "probability", "roc_auc_score": "probability", "brier_skill_score": "probability"}


def make_task(metric: str, kind: str | None = None):
    kind = kind or KIND[metric]
    extra = 'group_column = "g"\n' if metric == "psfa_score" else ""
    text = (f'[task]\nslug = "t"\ntitle_ko = "t"\ntitle_en = "t"\nid_column = "id"\n\n'
            f'[metric]\nname = "{metric}"\n{extra}\n{TARGETS[kind]}')
    return parse_task(text, "test")


def sample(metric: str, n: int, rng: np.random.Generator, noise: float = 0.3):
    kind = KIND[metric]
    if kind == "number":
        y = rng.gamma(2.0, 3.0, size=(n, 2))
        return y, np.maximum(y + rng.normal(0, noise * 3, size=y.shape), 0)
    if kind == "probability":
        y = (rng.random(n) < 0.4).astype(np.float64)
        return y, np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, noise, n), 0.01, 0.99)
    classes = 3 if kind == "class" else 2
    y = rng.integers(0, classes, n)
    flip = rng.random(n) < noise
    return y, np.where(flip, rng.integers(0, classes, n), y)


def test_every_metric_has_statistics_that_reproduce_it() -> None:
    """finish(Σ S) with every weight 1 is the metric itself, for every registered metric."""
    rng = np.random.default_rng(1)
    assert set(KIND) == set(metric_names())
    for name in metric_names():
        task = make_task(name)
        y, p = sample(name, 400, rng)
        groups = rng.integers(0, 4, 400)
        kwargs = task.metric_kwargs()
        if name == "psfa_score":
            expected = np.mean([task.get_metric().func(y[groups == g], p[groups == g], groups=groups[groups == g])
                                for g in range(4)])
        else:
            expected = task.get_metric().func(y, p, **kwargs)
        stats = statistics_for(task)
        if name == "roc_auc_score":
            got = replicate_scores(task, y, [p], replicates=1, seed=0)  # checked through the bootstrap below
            weights = np.ones((1, 400))
            from scoring.bootstrap import _auc_scores
            got = _auc_scores(y, p, weights)[0]
        else:
            values = stats.values(y, p, None, groups)
            got = stats.finish(values.sum(axis=0)[None, :])[0]
        assert got == pytest.approx(expected, rel=1e-9), name


def test_row_losses_average_to_the_loss_metrics() -> None:
    rng = np.random.default_rng(2)
    for name in ("mean_absolute_error", "log_loss", "smape"):
        y, p = sample(name, 300, rng)
        assert has_row_losses(name)
        assert row_losses(name, y, p).mean() == pytest.approx(make_task(name).get_metric().func(y, p))
    y, p = sample("root_mean_squared_error", 300, rng)
    y, p = y[:, 0], p[:, 0]
    assert math.sqrt(row_losses("root_mean_squared_error", y, p).mean()) == pytest.approx(
        make_task("root_mean_squared_error", "one_number").get_metric().func(y, p))
    assert not has_row_losses("f1_macro") and not has_row_losses("lg_nrmse")
    with pytest.raises(ValueError, match="no per-row loss"):
        row_losses("f1_binary", y, p)


def test_weights_are_seeded_counts() -> None:
    w = resample_weights(50, 30, "seed")
    assert w.shape == (30, 50) and (w.sum(axis=1) == 50).all()
    assert np.array_equal(w, resample_weights(50, 30, "seed"))
    assert not np.array_equal(w, resample_weights(50, 30, "other"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metric=st.sampled_from(sorted(KIND)), seed=st.integers(0, 10_000), teams=st.integers(2, 5))
def test_identical_teams_are_tied(metric: str, seed: int, teams: int) -> None:
    rng = np.random.default_rng(seed)
    task = make_task(metric)
    y, p = sample(metric, 120, rng)
    groups = rng.integers(0, 3, 120) if metric == "psfa_score" else None
    result = rank_confidence(task, y, [p] * teams, groups=groups, replicates=100, seed=seed)
    for entry in result[:-1]:
        assert entry["tied_with_next"] is True
        assert entry["p_beats_next"] == 0.5
    assert result[-1]["tied_with_next"] is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metric=st.sampled_from(sorted(set(KIND) - {"psfa_score"})), seed=st.integers(0, 10_000))
def test_a_clearly_better_team_beats_the_next_almost_surely(metric: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    task = make_task(metric)
    y, _ = sample(metric, 600, rng)
    _, good = sample(metric, 600, np.random.default_rng(seed + 1), noise=0.02)
    good = np.where(rng.random(len(y)) < 0.97, y if KIND[metric] != "probability" else np.clip(0.5 + (y - 0.5) * 0.9, 0, 1),
                    good) if KIND[metric] != "number" else y + rng.normal(0, 0.05, y.shape)
    _, bad = sample(metric, 600, rng, noise=0.9)
    if KIND[metric] == "number":
        bad = np.abs(y + rng.normal(0, 6.0, y.shape))
    result = rank_confidence(task, y, [good, bad], replicates=200, seed=seed)
    assert result[0]["p_beats_next"] >= 0.99
    assert result[0]["tied_with_next"] is False
    assert result[0]["rank_low"] == result[0]["rank_high"] == 1


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_seed_same_result(seed: int) -> None:
    rng = np.random.default_rng(seed)
    task = make_task("f1_macro")
    y, _ = sample("f1_macro", 200, rng)
    preds = [sample("f1_macro", 200, np.random.default_rng(seed + k), noise=0.2 + 0.05 * k)[1] for k in range(6)]
    preds = [np.where(np.random.default_rng(k).random(200) < 0.7, y, p) for k, p in enumerate(preds)]
    clusters = np.arange(200) // 4
    a = rank_confidence(task, y, preds, clusters=clusters, replicates=150, seed=f"s{seed}")
    b = rank_confidence(task, y, preds, clusters=clusters, replicates=150, seed=f"s{seed}")
    assert a == b


def test_clusters_resample_whole_clusters() -> None:
    """With one cluster per half, a replicate is all of one half or a mix of both: scores take few values."""
    task = make_task("accuracy_score")
    y = np.zeros(100, dtype=np.int64)
    p = np.r_[np.zeros(50, dtype=np.int64), np.ones(50, dtype=np.int64)]
    scores = replicate_scores(task, y, [p], clusters=np.repeat([7, 9], 50), replicates=200, seed=1)
    assert set(np.round(scores[:, 0], 9)) <= {0.0, 0.5, 1.0}


def test_ladder_loss_rule_is_blum_hardt() -> None:
    task = make_task("root_mean_squared_error", "one_number")
    rng = np.random.default_rng(3)
    y = rng.normal(size=1000)
    first, best = judge(task, y, y + 1.0, 1.0, None)
    assert first.improved
    same, _ = judge(task, y, y + 1.0, 1.0, best)
    assert not same.improved and same.standard_error == 0.0
    tiny = y + 1.0
    tiny[0] = y[0]  # one row better: far less than a standard error
    probe, _ = judge(task, y, tiny, 0.0, best)
    assert not probe.improved  # one row moves the mean by exactly one (sample) standard error
    assert probe.margin == pytest.approx(probe.standard_error)
    two = tiny.copy()
    two[1] = y[1]
    assert judge(task, y, two, 0.0, best)[0].improved
    better, new = judge(task, y, y + 0.5, 0.5, best)
    assert better.improved and better.margin == pytest.approx(0.75) and better.standard_error == pytest.approx(0.0, abs=1e-6)
    restored = Evidence.from_bytes(new.kind, new.reference, new.to_bytes(), new.values.shape)
    assert np.array_equal(restored.values, new.values)


def test_ladder_bootstrap_metric() -> None:
    task = make_task("f1_binary")
    rng = np.random.default_rng(4)
    y = (rng.random(800) < 0.3).astype(np.int64)
    noisy = np.where(rng.random(800) < 0.3, 1 - y, y)
    score = task.get_metric().func(y, noisy, pos_label=1)
    _, best = judge(task, y, noisy, score, None)
    flipped = noisy.copy()
    flipped[np.flatnonzero(noisy != y)[0]] ^= 1
    one, _ = judge(task, y, flipped, task.get_metric().func(y, flipped, pos_label=1), best, seed=1)
    assert not one.improved
    good = np.where(rng.random(800) < 0.05, 1 - y, y)
    much, _ = judge(task, y, good, task.get_metric().func(y, good, pos_label=1), best, seed=1)
    assert much.improved and much.margin > much.standard_error > 0


def test_probe_signs() -> None:
    a = Predictions(4, np.array([0.1, 0.2]), np.array([0.3, 0.4]))
    b = Predictions(4, np.array([0.1, 0.9]), np.array([0.3, 0.4]))
    assert changed_rows(a, b) == 1 and changed_rows(a, a) == 0
    assert not is_near_constant(a)
    assert is_near_constant(Predictions(200, np.full(100, 0.5), np.full(100, 0.5)))
    two = Predictions(3, np.array([[1.0, 2.0]]), np.array([[1.0, 2.0], [1.0, 3.0]]))
    assert changed_rows(two, Predictions(3, np.array([[1.0, 2.0]]), np.array([[1.0, 2.5], [1.0, 3.0]]))) == 1


def test_row_fingerprints_count_what_changed_rows_counts() -> None:
    rng = np.random.default_rng(3)
    a = Predictions(3000, rng.random((1000, 14)), rng.random((2000, 14)))
    b = Predictions(3000, a.public.copy(), a.private.copy())
    b.public[7, 13] = np.nextafter(b.public[7, 13], 2.0)  # the smallest change, in the last column
    b.private[0, 0] += 1.0
    b.private[5, :] = b.private[5, ::-1]  # the same values in another order
    fingerprints = row_fingerprints(a)
    assert fingerprints.dtype == np.uint64 and fingerprints.shape == (3000,)
    assert changed_fingerprints(fingerprints, row_fingerprints(b)) == changed_rows(a, b) == 3
    assert changed_fingerprints(fingerprints, fingerprints) == 0
    # -0.0 equals 0.0; classes (integer codes) and a single target work too; another row count is all rows.
    zeros = Predictions(2, np.array([0.0]), np.array([-0.0]))
    assert changed_fingerprints(row_fingerprints(zeros), row_fingerprints(Predictions(2, np.array([-0.0]),
                                                                                      np.array([0.0])))) == 0
    codes = Predictions(3, np.array([1, 2]), np.array([0]))
    assert changed_fingerprints(row_fingerprints(codes), row_fingerprints(Predictions(3, np.array([1, 0]),
                                                                                      np.array([0])))) == 1
    assert changed_fingerprints(row_fingerprints(codes), row_fingerprints(zeros)) == 2
