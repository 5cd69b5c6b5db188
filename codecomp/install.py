"""A fresh virtual environment per submission, layered on the organizers' base environment.

The new venv is made by the base environment's interpreter without pip; a `.pth` file puts the
base environment's site-packages after its own, so numpy, pandas, scikit-learn and whatever else
the organizers installed there need no install, and a requirement pinned to another version is
installed into the submission's venv and wins. requirements.txt is installed by the base
environment's pip, inside the sandbox, binary wheels only (no setup.py runs), from:

- ``none``: nothing; every requirement must already be satisfied by the base environment;
- ``wheelhouse``: only the organizers' folder of wheels (``--no-index --find-links``);
- ``index``: a configured package index (the only case with network, during install only).

Configured by the environment: HACKATHON_CODE_BASE_PYTHON (default: this interpreter),
HACKATHON_CODE_INSTALL (none | wheelhouse | index; default none, or wheelhouse when
HACKATHON_CODE_WHEELHOUSE is set), HACKATHON_CODE_WHEELHOUSE, HACKATHON_CODE_INDEX_URL.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from codecomp.run import Limits, Mount, sandboxed

__all__ = ["InstallConfig", "InstallError", "BaseEnv", "base_env", "create_env", "install_requirements",
           "read_requirements", "MODES"]

MODES = ("none", "wheelhouse", "index")
LOG_LINES = 30
# A requirement line: a name, optional extras, an optional version specifier and marker. No URLs,
# no options (-e, -r, --index-url, ...): packages come only from the organizers' sources.
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]+\])?\s*"
                          r"([<>=!~]=?[^;@\s]+(\s*,\s*[<>=!~]=?[^;@\s,]+)*)?\s*(;[^@]*)?$")


class InstallError(Exception):
    """The requirements cannot be installed: the team's problem, not charged."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log = log


@dataclass(frozen=True)
class InstallConfig:
    base_python: str
    mode: str = "none"
    wheelhouse: Path | None = None
    index_url: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"install mode must be one of {', '.join(MODES)}; found {self.mode!r}")
        if self.mode == "wheelhouse" and (self.wheelhouse is None or not self.wheelhouse.is_dir()):
            raise ValueError(f"install mode 'wheelhouse' needs an existing wheelhouse folder; found {self.wheelhouse}")
        if self.mode == "index" and not self.index_url:
            raise ValueError("install mode 'index' needs an index URL (HACKATHON_CODE_INDEX_URL)")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> InstallConfig:
        env = os.environ if environ is None else environ
        wheelhouse = env.get("HACKATHON_CODE_WHEELHOUSE") or None
        mode = env.get("HACKATHON_CODE_INSTALL") or ("wheelhouse" if wheelhouse else "none")
        return cls(base_python=env.get("HACKATHON_CODE_BASE_PYTHON") or sys.executable, mode=mode,
                   wheelhouse=Path(wheelhouse).resolve() if wheelhouse else None,
                   index_url=env.get("HACKATHON_CODE_INDEX_URL") or None)


@dataclass(frozen=True)
class BaseEnv:
    """Where the base environment lives: the folders the sandbox must show read-only."""

    python: str               # the interpreter path a new venv links to
    prefix: Path              # the base environment (a venv or an installation)
    base_prefix: Path         # the Python installation under it
    site_packages: tuple[str, ...]
    version: str

    @property
    def mounts(self) -> list[Mount]:
        folders = {self.base_prefix.resolve(), self.prefix.resolve(), self.prefix}
        return [Mount(p, str(p)) for p in sorted(folders)]


@functools.lru_cache(maxsize=4)
def base_env(python: str) -> BaseEnv:
    """Ask the base interpreter where it lives (once per process)."""
    code = ("import json,sys,sysconfig;p=sysconfig.get_paths();print(json.dumps({'prefix':sys.prefix,"
            "'base':sys.base_prefix,'exe':sys._base_executable,'site':[p['purelib'],p['platlib']],"
            "'version':'%d.%d'%sys.version_info[:2]}))")
    done = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(done.stdout)
    return BaseEnv(python=os.path.realpath(info["exe"]), prefix=Path(info["prefix"]),
                   base_prefix=Path(info["base"]), site_packages=tuple(dict.fromkeys(info["site"])),
                   version=info["version"])


def read_requirements(path: Path) -> list[str]:
    """Return requirement lines; refuse options and URLs with a clear message."""
    if not path.is_file():
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InstallError("requirements.txt is not UTF-8 text") from None
    wanted: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if not _REQUIREMENT.match(line):
            raise InstallError(f"requirements.txt line {number}: {line[:100]!r} is not a plain requirement "
                               f"(name, optional version such as 'lightgbm==4.3.0'); options, URLs and "
                               f"local paths are not allowed")
        wanted.append(line)
    return wanted


def create_env(venv: Path, base: BaseEnv) -> Path:
    """Make the submission's venv (without pip), layered on `base`; return its python."""
    subprocess.run([base.python, "-I", "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True, timeout=120)
    site = venv / "lib" / f"python{base.version}" / "site-packages"
    (site / "_hackathon_base_env.pth").write_text("".join(f"{p}\n" for p in base.site_packages))
    return venv / "bin" / "python"


def install_requirements(requirements: list[str], venv: Path, base: BaseEnv, config: InstallConfig, *,
                         seconds: int, memory_bytes: int, processes: int, work: Path) -> tuple[float, str]:
    """pip-install `requirements` into `venv` inside the sandbox; return (seconds, log tail).

    Raises:
        InstallError: pip failed or ran out of time; with the last lines of its log.
    """
    if not requirements:
        return 0.0, ""
    req_file = work / "requirements.install.txt"
    req_file.write_text("\n".join(requirements) + "\n")
    source: list[str]
    mounts = [*base.mounts, Mount(venv, str(venv), writable=True), Mount(req_file, "/install/requirements.txt")]
    if config.mode == "none":
        source = ["--no-index"]
    elif config.mode == "wheelhouse":
        assert config.wheelhouse is not None
        source = ["--no-index", "--find-links", "/wheelhouse"]
        mounts.append(Mount(config.wheelhouse, "/wheelhouse"))
    else:
        source = ["--index-url", str(config.index_url)]
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--no-cache-dir", "--progress-bar", "off", "--only-binary", ":all:", *source,
            "-r", "/install/requirements.txt"]
    limits = Limits(seconds=seconds, memory_bytes=memory_bytes, processes=processes, cpus=1,
                    file_bytes=1 << 30, tmp_bytes=1 << 30)
    started = time.monotonic()
    result = sandboxed(argv, mounts=mounts, cwd="/tmp", limits=limits, network=config.mode == "index",
                       log_path=work / "install.log")
    elapsed = time.monotonic() - started
    tail = "\n".join(result.log_tail.splitlines()[-LOG_LINES:])
    if result.timed_out:
        raise InstallError(f"installing requirements.txt took longer than {seconds} s", tail)
    if result.returncode != 0:
        where = {"none": "the base environment (installing is off)", "wheelhouse": "the organizers' wheelhouse",
                 "index": "the package index"}[config.mode]
        raise InstallError(f"pip could not install requirements.txt from {where}; see the log", tail)
    return elapsed, tail
