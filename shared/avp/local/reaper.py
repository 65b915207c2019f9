"""Children of the local stack die with it, even when it is killed with SIGKILL (no cleanup runs then).

Each child runs in its own process group (the Firestore emulator: a launcher script and its JVM; a
pipeline step: avp-media and its ffmpeg). The kernel's parent-death signal (prctl PR_SET_PDEATHSIG)
would reach only the direct child and not the JVM or ffmpeg under it, so `guard_group` starts a tiny
watchdog that kills the child's whole group as soon as the stack is gone.

    python -m avp.local.reaper PARENT_PID PROCESS_GROUP   (started by guard_group)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

def guard_group(pgid: int) -> subprocess.Popen:
    """Start a watchdog that kills process group `pgid` when this process dies."""
    return subprocess.Popen([sys.executable, "-m", "avp.local.reaper", str(os.getpid()), str(pgid)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(parent: int, pgid: int, every: float = 0.5) -> None:
    """Until group `pgid` is gone: when `parent` has died (this watchdog was re-parented), kill the group."""
    while _alive(pgid):
        if os.getppid() != parent:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        time.sleep(every)


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]))
