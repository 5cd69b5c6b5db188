"""The first program inside the sandbox: run script.py, then hand back output/submission.csv.

Runs with `python -I -S` (stdlib only). fd RESULT_FD receives a copy of output/submission.csv and
fd STATUS_FD one JSON line; neither is inherited by script.py. After script.py exits, every other
process in the sandbox's pid namespace is killed before the copy, so nothing the script left
running can change the file while it is read.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys

PR_SET_DUMPABLE = 4


def main() -> int:
    result_fd, status_fd, python, script, csv_path, max_bytes = (
        int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    try:  # not dumpable: the script's processes cannot open /proc/<this pid>/fd
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    for fd in (result_fd, status_fd):
        os.set_inheritable(fd, False)
    proc = subprocess.Popen([python, script], close_fds=True)
    code = proc.wait()
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    found = False
    try:
        fd = os.open(csv_path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        fd = -1
    if fd >= 0:
        import stat

        if stat.S_ISREG(os.fstat(fd).st_mode):
            found = True
            copied = 0
            while copied <= max_bytes and (chunk := os.read(fd, 1 << 20)):
                os.write(result_fd, chunk)
                copied += len(chunk)
        os.close(fd)
    os.write(status_fd, json.dumps({"returncode": code, "found": found}).encode() + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
