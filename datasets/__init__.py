"""The bundled LG Aimers-style tasks: their folders, synthetic data generators and baselines.

Each task lives in ``datasets/<task>/`` with ``task.toml``, the committed ``sample_submission.csv``
and ``generator.py``. Task folder names contain hyphens, so generators are loaded by file path.

>>> generate("antenna", "out/antenna", rows=1000, seed=0)   # train, test, sample, labels
>>> baseline("antenna", "out/antenna", "out/antenna/baseline.csv")
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

from datasets._common import LABELS_CSV, SAMPLE_CSV, TEST_CSV, TRAIN_CSV, write_csv

__all__ = [
    "LABELS_CSV",
    "SAMPLE_CSV",
    "TEST_CSV",
    "TRAIN_CSV",
    "baseline",
    "code_task_names",
    "default_rows",
    "generate",
    "task_dir",
    "task_names",
]

_ROOT = Path(__file__).resolve().parent


def task_names() -> list[str]:
    """Return the bundled CSV tasks' names (folders with a task.toml), sorted."""
    return [name for name, kind in _all_tasks() if kind != "code"]


def code_task_names() -> list[str]:
    """Return the bundled code tasks' names (task.toml with kind = "code"), sorted."""
    return [name for name, kind in _all_tasks() if kind == "code"]


def _all_tasks() -> list[tuple[str, str]]:
    import tomllib

    found = []
    for p in sorted(_ROOT.iterdir()):
        if p.is_dir() and (p / "task.toml").is_file():
            with (p / "task.toml").open("rb") as fh:
                found.append((p.name, tomllib.load(fh).get("task", {}).get("kind", "csv")))
    return found


def task_dir(name: str) -> Path:
    """Return the folder of a bundled task.

    Raises:
        ValueError: ``name`` is not a bundled task; the message lists the valid names.
    """
    names = task_names() + code_task_names()
    if name not in names:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(names)}")
    return _ROOT / name


def _generator(name: str) -> ModuleType:
    """Import ``datasets/<name>/generator.py`` once, by file path."""
    module_name = f"datasets._generators.{name.replace('-', '_')}"
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    path = task_dir(name) / "generator.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only on a broken install
        raise ImportError(f"cannot load the generator of task {name!r} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def default_rows(name: str) -> int:
    """Return the number of test rows a task generates when ``rows`` is None (the real size)."""
    return int(_generator(name).DEFAULT_TEST_ROWS)


def generate(name: str, out_dir: str | Path, *, rows: int | None = None, seed: int = 0) -> None:
    """Write ``train.csv``, ``test.csv``, ``sample_submission.csv`` and the hidden ``labels.csv``.

    Args:
        name: a name from :func:`task_names`.
        out_dir: created if missing; existing files of the same names are overwritten.
        rows: test rows; None for the real competition's size.
        seed: a non-negative integer; the same seed gives byte-identical files.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    module = _generator(name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    module.generate(out, rows=rows, seed=seed)


def baseline(name: str, data_dir: str | Path, out_file: str | Path) -> Path:
    """Train a scikit-learn baseline on ``train.csv``, predict ``test.csv``, write a submission.

    The task's own ``baseline(data_dir)`` is used when its generator defines one, otherwise a
    generic model chosen by target kind (see :mod:`datasets._baseline`).

    Raises:
        FileNotFoundError: ``data_dir`` lacks ``train.csv`` or ``test.csv``.
    """
    from datasets import _baseline  # scikit-learn is slow to import; only load it when needed

    folder = task_dir(name)
    data = Path(data_dir)
    for file_name in (TRAIN_CSV, TEST_CSV):
        if not (data / file_name).is_file():
            raise FileNotFoundError(
                f"{data / file_name} not found; generate the data first "
                f"(hackathon datasets generate {name} --out {data})"
            )
    module = _generator(name)
    own = getattr(module, "baseline", None)
    frame: pd.DataFrame = own(data) if own is not None else _baseline.generic_baseline(folder, data)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(out, _baseline.frame_columns(frame))
    return out

