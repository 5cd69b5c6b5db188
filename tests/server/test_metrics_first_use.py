"""The metrics of a process are made once, however many requests arrive together at its start.

Found by benchmarks/bench_upload.py: the first four uploads to a new web process raced to create
the metrics, the second registered the same names again, and its upload got a 500.
"""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import REGISTRY

import server.metrics as metrics_module


def test_threads_asking_for_the_metrics_at_once_all_get_the_same_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    old = metrics_module.metrics()
    collectors = [old.http_duration, old.upload_bytes, old.uploads, old.scoring_duration]
    for collector in collectors:
        REGISTRY.unregister(collector)
    monkeypatch.setattr(metrics_module, "_metrics", None)

    class SlowToMake(metrics_module._Metrics):  # widens the window a loaded machine opens by chance
        def __init__(self) -> None:
            time.sleep(0.05)
            super().__init__()

    monkeypatch.setattr(metrics_module, "_Metrics", SlowToMake)
    start = threading.Barrier(16)
    got: list[object] = []
    errors: list[BaseException] = []

    def first_request() -> None:
        start.wait()
        try:
            got.append(metrics_module.metrics())
        except BaseException as exc:  # the failure under test
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(got) == 16 and all(m is got[0] for m in got)
    finally:
        made = metrics_module._metrics
        if made is not None:
            for collector in (made.http_duration, made.upload_bytes, made.uploads, made.scoring_duration):
                REGISTRY.unregister(collector)
        for collector in collectors:
            REGISTRY.register(collector)
