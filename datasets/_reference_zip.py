"""The reference submit.zip of a bundled code task, built from the generic baseline.

The zip runs exactly the baseline of `datasets._baseline` inside the sandbox, so its score equals
the baseline CSV's: ``model/`` holds the training data (train.csv), the task's task.toml and a copy
of the baseline code; ``script.py`` fits on ``model/train.csv`` and predicts ``data/test.csv``
(the baseline encodes train and test together, so fitting happens at inference time). Nothing is
committed: the zip is built from generated data (`hackathon datasets reference-zip`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from datasets._common import TRAIN_CSV

__all__ = ["build_reference_zip", "SCRIPT"]

SCRIPT = '''"""Reference submission: the generic scikit-learn baseline, fitted on model/train.csv."""
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, "model")
import baseline_lib  # noqa: E402  (model/baseline_lib.py: a copy of datasets/_baseline.py)

with tempfile.TemporaryDirectory() as tmp:
    # The baseline reads train.csv and test.csv from one folder.
    os.symlink(Path("model/train.csv").resolve(), Path(tmp, "train.csv"))
    os.symlink(Path("data/test.csv").resolve(), Path(tmp, "test.csv"))
    frame = baseline_lib.generic_baseline(Path("model"), Path(tmp))
os.makedirs("output", exist_ok=True)
frame.to_csv("output/submission.csv", index=False)
'''
REQUIREMENTS = "numpy\npandas\npyarrow\nscikit-learn\nthreadpoolctl\n"
_IMPORT = "from datasets._common import TEST_CSV, TRAIN_CSV, str_column\n"


def build_reference_zip(task_folder: Path, data_dir: Path, out: Path) -> Path:
    """Write the reference submit.zip for a code task; `data_dir` holds its generated train.csv."""
    code = (Path(__file__).with_name("_baseline.py")).read_text(encoding="utf-8")
    if _IMPORT not in code:  # pragma: no cover - a guard for whoever edits _baseline.py
        raise RuntimeError("datasets/_baseline.py imports changed; update datasets/_reference_zip.py")
    code = code.replace(_IMPORT, 'TEST_CSV, TRAIN_CSV = "test.csv", "train.csv"\nstr_column = None\n')
    train = data_dir / TRAIN_CSV
    if not train.is_file():
        raise FileNotFoundError(f"{train} not found; generate the data first")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("script.py", SCRIPT)
        zf.writestr("requirements.txt", REQUIREMENTS)
        zf.writestr("model/baseline_lib.py", code)
        zf.write(task_folder / "task.toml", "model/task.toml")
        zf.write(train, "model/train.csv")
    return out
