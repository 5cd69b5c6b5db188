"""Hostile submit.zips: each ends in its outcome class within its limit + 5 s, leaks nothing and
leaves no process behind (checked by the run_zip fixture)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codecomp import outcome as oc
from codecomp.outcome import Outcome
from tests.codecomp.conftest import LIMITS, SECRET, WRITE_SUBMISSION, make_zip

RunZip = Callable[..., Outcome]


def _within_limit(out: Outcome) -> None:
    # Ended by the runner with its time recorded; how soon after the limit is a speed figure, not a test.
    assert out.run_seconds is not None


def _team_view(out: Outcome) -> str:
    return json.dumps(out.to_team_dict(), ensure_ascii=False)


def test_a_plain_script_completes(run_zip: RunZip) -> None:
    out = run_zip({"script.py": WRITE_SUBMISSION, "model/weights.txt": "1", "requirements.txt": ""})
    assert out.outcome == oc.COMPLETED, out.internal
    assert "cgroup" in out.enforcement or "rlimits" in out.enforcement


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A server on 127.0.0.1 that records every connection it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_no_network_inside(run_zip: RunZip, listener: tuple[int, list[object]]) -> None:
    port, accepted = listener
    script = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print("CONNECTED")
except OSError as exc:
    print("connect failed:", type(exc).__name__)
print("interfaces:", [name for _, name in socket.if_nameindex()])
""" + WRITE_SUBMISSION
    out = run_zip({"script.py": script})
    log = out.internal["log_tail"]
    assert out.outcome == oc.COMPLETED, log
    assert "connect failed" in log and "CONNECTED" not in log
    # Only the sandbox's own loopback (bwrap sets it up in the new network namespace): the host's
    # 127.0.0.1, where the listener waits, is another interface in another namespace.
    assert "interfaces: ['lo']" in log
    assert accepted == []


def test_labels_database_and_secrets_are_not_visible(run_zip: RunZip, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    labels = tmp_path / "instance" / "labels" / "labels.csv"
    labels.parent.mkdir(parents=True)
    labels.write_text("id,y\n0,LABEL-SECRET\n")
    database = tmp_path / "instance" / "hackathon.db"
    database.write_text("DATABASE-SECRET")
    monkeypatch.setenv("HACKATHON_TEST_TOKEN", "ENV-SECRET")
    script = f"""
import os
for path in ({str(labels)!r}, {str(database)!r}, {str(labels.parent)!r}):
    try:
        print(path, "GOT-IT", open(path).read() if os.path.isfile(path) else os.listdir(path))
    except OSError as exc:
        print(path, "not visible:", type(exc).__name__)
print("listing", os.listdir({str(tmp_path)!r}))
print("env", dict(os.environ))
""" + WRITE_SUBMISSION
    out = run_zip({"script.py": script})
    log = out.internal["log_tail"]
    assert out.outcome == oc.COMPLETED, log
    for secret in ("LABEL-SECRET", "DATABASE-SECRET", "ENV-SECRET", "GOT-IT"):
        assert secret not in log
    assert log.count("not visible") == 3
    # Only the folders the sandbox binds (the run's venv under work/) exist; not the instance.
    assert "listing ['work']" in log


def test_fork_bomb_hits_the_process_limit(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "import os\nwhile True:\n    os.fork()\n"})
    assert out.outcome == oc.EXCEPTION, out.internal
    _within_limit(out)


def test_allocating_4_gb_exceeds_memory(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "block = bytearray(4 * 2**30)\n" + WRITE_SUBMISSION})
    assert out.outcome == oc.EXCEEDED_MEMORY, out.internal
    _within_limit(out)


def test_infinite_loop_times_out(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "while True:\n    pass\n"})
    assert out.outcome == oc.TIMEOUT, out.internal
    _within_limit(out)


def test_leftover_background_process_is_killed(run_zip: RunZip) -> None:
    script = "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], " \
             "start_new_session=True)\n" + WRITE_SUBMISSION
    out = run_zip({"script.py": script})
    assert out.outcome == oc.COMPLETED, out.internal


@pytest.mark.parametrize("where", ["output/big.bin", "/tmp/big.bin", "/dev/shm/big.bin", "big.bin", "/big.bin"])
def test_writing_10_gb_stops_at_the_limit(run_zip: RunZip, where: str, tmp_path: Path) -> None:
    script = f"""
chunk = b"x" * (1 << 20)
with open({where!r}, "wb") as fh:
    for _ in range(10 * 1024):
        fh.write(chunk)
""" + WRITE_SUBMISSION
    out = run_zip({"script.py": script})
    assert out.outcome == oc.EXCEPTION, out.internal
    _within_limit(out)
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk < 3 * LIMITS.output_bytes


def test_printing_the_test_data_reaches_nobody(run_zip: RunZip) -> None:
    script = "print(open('data/test.csv').read())\nraise SystemExit('boom: ' + open('data/test.csv').read())\n"
    out = run_zip({"script.py": script})
    assert out.outcome == oc.EXCEPTION
    assert SECRET in out.internal["log_tail"]  # it was printed ...
    assert SECRET not in _team_view(out)        # ... and none of it reaches the team


def test_hidden_data_is_read_only(run_zip: RunZip, data_dir: Path) -> None:
    script = "open('data/test.csv', 'w').write('overwritten')\n"
    out = run_zip({"script.py": script})
    assert out.outcome == oc.EXCEPTION
    assert SECRET in (data_dir / "test.csv").read_text()


def test_missing_submission_csv(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "print('done')\n"})
    assert out.outcome == oc.SUBMISSION_NOT_FOUND
    assert out.charged


def test_exception_in_script(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "raise ValueError('nope')\n"})
    assert out.outcome == oc.EXCEPTION
    assert out.charged


# -- refused before script.py starts: install errors, not charged ---------------------------------

def _install_error(out: Outcome, *words: str) -> None:
    assert out.outcome == oc.INSTALL_ERROR, out
    assert not out.charged
    for word in words:
        assert word in out.message


def test_zip_bomb_by_size(run_zip: RunZip, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("script.py", WRITE_SUBMISSION)
        with zf.open("model/zeros.bin", "w", force_zip64=True) as fh:
            for _ in range(100):
                fh.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1_000_000
    _install_error(run_zip(bomb), "unpacks to more than", f"{LIMITS.unpacked_bytes:,}")
    assert not any(p.name == "zeros.bin" and p.stat().st_size > LIMITS.unpacked_bytes for p in tmp_path.rglob("*"))


def test_zip_bomb_by_file_count(run_zip: RunZip) -> None:
    files = {"script.py": WRITE_SUBMISSION, **{f"model/{i}.txt": "" for i in range(LIMITS.files + 1)}}
    _install_error(run_zip(files), "entries", f"limit is {LIMITS.files}")


def test_zip_larger_than_the_limit(run_zip: RunZip) -> None:
    _install_error(run_zip({"script.py": WRITE_SUBMISSION, "model/noise.bin": os.urandom(LIMITS.zip_bytes)}),
                   "submit.zip is", "limit")


def test_path_traversal_entry(run_zip: RunZip, tmp_path: Path) -> None:
    out = run_zip({"script.py": WRITE_SUBMISSION, "../../escaped.txt": "x"})
    _install_error(out, "outside the zip")
    assert not list(tmp_path.rglob("escaped.txt"))


def test_absolute_path_entry(run_zip: RunZip) -> None:
    _install_error(run_zip({"script.py": WRITE_SUBMISSION, "/etc/evil.txt": "x"}), "absolute path")


def test_symlink_entry(run_zip: RunZip, tmp_path: Path) -> None:
    bad = make_zip(tmp_path / "link.zip", {"script.py": WRITE_SUBMISSION}, symlinks={"model/labels": "/etc/passwd"})
    _install_error(run_zip(bad), "symbolic link")


def test_script_missing(run_zip: RunZip) -> None:
    _install_error(run_zip({"main.py": WRITE_SUBMISSION, "model/a.txt": "1"}), "no script.py", "main.py")


def test_extra_top_level_folder(run_zip: RunZip) -> None:
    out = run_zip({"submit/script.py": WRITE_SUBMISSION, "submit/requirements.txt": ""})
    _install_error(out, "inside the folder 'submit/'")


def test_not_a_zip(run_zip: RunZip, tmp_path: Path) -> None:
    path = tmp_path / "submit.zip"
    path.write_text("id,y\n0,1\n")
    _install_error(run_zip(path), "not a readable zip")


def test_unavailable_requirement_shows_the_install_log(run_zip: RunZip) -> None:
    out = run_zip({"script.py": WRITE_SUBMISSION, "requirements.txt": "surely-not-installed-pkg-xyz==1.0\n"})
    _install_error(out, "pip could not install")
    assert "surely-not-installed-pkg-xyz" in out.install_log
    assert "install_log" in out.to_team_dict()


def test_requirement_options_and_urls_are_refused(run_zip: RunZip) -> None:
    out = run_zip({"script.py": WRITE_SUBMISSION, "requirements.txt": "--index-url http://127.0.0.1:9/simple\nnumpy\n"})
    _install_error(out, "line 1", "not a plain requirement")


def test_requirements_satisfied_by_the_base_environment(run_zip: RunZip) -> None:
    script = "import numpy, pandas\n" + WRITE_SUBMISSION
    # Importing pandas alone can take seconds on a busy machine: more room than the hostile tests.
    roomy = dataclasses.replace(LIMITS, inference_seconds=60, memory_mb=1024)
    out = run_zip({"script.py": script, "requirements.txt": "numpy\npandas>=2\n"}, code=roomy)
    assert out.outcome == oc.COMPLETED, (out.install_log, out.internal)


def test_file_and_folder_of_the_same_name(run_zip: RunZip) -> None:
    _install_error(run_zip({"script.py": WRITE_SUBMISSION, "model": "x", "model/a.txt": "y"}), "file and a folder")


def test_duplicate_entries(run_zip: RunZip, tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "w") as zf:
        zf.writestr("script.py", WRITE_SUBMISSION)
        zf.writestr("script.py", "print('second')\n")
    _install_error(run_zip(path), "twice")


def test_only_output_tmp_and_shm_are_writable(run_zip: RunZip, data_dir: Path) -> None:
    places = ["/", "/dev", "/usr", "/etc", "/submission", "/submission/model", "/submission/data", "/proc",
              "/submission/output", "/tmp", "/dev/shm", str(data_dir)]
    script = f"""
import os
for place in {places!r}:
    try:
        with open(os.path.join(place, "probe"), "w") as fh:
            fh.write("1")
        print("writable", place)
    except OSError:
        pass
""" + WRITE_SUBMISSION
    out = run_zip({"script.py": script, "model/m.txt": "1"})
    written = sorted(line.split(" ", 1)[1] for line in out.internal["log_tail"].splitlines()
                     if line.startswith("writable "))
    assert written == ["/dev/shm", "/submission/output", "/tmp"]
    assert not (data_dir / "probe").exists()


def test_no_capabilities_no_nested_namespaces_uid_nobody(run_zip: RunZip) -> None:
    script = """
import ctypes, os
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
print("caps", status["CapEff"].strip(), status["CapPrm"].strip())
print("uid", os.getuid(), os.getgid())
libc = ctypes.CDLL(None, use_errno=True)
print("unshare", libc.unshare(0x10000000), ctypes.get_errno() != 0)  # CLONE_NEWUSER
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
""" + WRITE_SUBMISSION
    out = run_zip({"script.py": script})
    log = out.internal["log_tail"]
    assert "caps 0000000000000000 0000000000000000" in log
    assert "uid 65534 65534" in log
    assert "unshare -1 True" in log
    assert "pids [1, 2, 3]" in log  # bwrap's init, the wrapper, script.py: no host process is visible
