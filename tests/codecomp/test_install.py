"""Requirements: only from the organizers' wheelhouse (or index); none = the base environment only."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from codecomp import outcome as oc
from codecomp.install import InstallConfig
from codecomp.pipeline import run_submission
from tests.codecomp.conftest import LIMITS, WRITE_SUBMISSION, leftover_processes, make_zip


def _wheel(folder: Path, name: str = "tinypkg", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, built by hand (no network, no build backend)."""
    files = {
        f"{name}/__init__.py": f"VALUE = {version!r}\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    out = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return out


def _run(tmp_path: Path, data_dir: Path, install: InstallConfig) -> oc.Outcome:
    script = "import tinypkg\nprint('tinypkg', tinypkg.VALUE)\n" + WRITE_SUBMISSION
    zip_path = make_zip(tmp_path / "submit.zip", {"script.py": script, "requirements.txt": "tinypkg==1.0\n"})
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    out = run_submission(zip_path, code=LIMITS, data_dir=data_dir, install=install, work_root=work)
    assert leftover_processes(work, set()) == []
    return out


def test_wheelhouse_installs_into_the_submission_venv_only(tmp_path: Path, data_dir: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    _wheel(wheelhouse)
    import sys

    out = _run(tmp_path, data_dir, InstallConfig(sys.executable, "wheelhouse", wheelhouse))
    assert out.outcome == oc.COMPLETED, (out.install_log, out.internal)
    assert "tinypkg 1.0" in out.internal["log_tail"]
    assert "Successfully installed tinypkg-1.0" in out.install_log
    import importlib.util

    assert importlib.util.find_spec("tinypkg") is None  # the base environment is untouched


def test_mode_none_refuses_what_the_base_environment_lacks(tmp_path: Path, data_dir: Path) -> None:
    import sys

    out = _run(tmp_path, data_dir, InstallConfig(sys.executable, "none"))
    assert out.outcome == oc.INSTALL_ERROR and not out.charged
    assert "installing is off" in out.message and "tinypkg" in out.install_log


def test_install_config_from_the_environment(tmp_path: Path) -> None:
    config = InstallConfig.from_env({"HACKATHON_CODE_WHEELHOUSE": str(tmp_path)})
    assert (config.mode, config.wheelhouse) == ("wheelhouse", tmp_path.resolve())
    assert InstallConfig.from_env({}).mode == "none"
    for bad in ({"HACKATHON_CODE_INSTALL": "conda"}, {"HACKATHON_CODE_INSTALL": "index"},
                {"HACKATHON_CODE_INSTALL": "wheelhouse"}):
        try:
            InstallConfig.from_env(bad)
        except ValueError as exc:
            assert "install mode" in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")
