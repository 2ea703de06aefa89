"""The documents' workers run at the priority of background work (`documents_worker_nice`): on Linux with
autogroups, the CPU is shared between sessions first, so a worker leading a session of its own also lowers its
session's weight; a process inside someone else's session leaves that session's weight alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cli

AUTOGROUPS = Path("/proc/self/autogroup").exists()
needs_autogroups = pytest.mark.skipif(not AUTOGROUPS, reason="this kernel has no autogroups (nothing to lower)")


def autogroup_nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/autogroup").read_text().split("nice")[1])


@needs_autogroups
def test_a_worker_started_in_a_session_of_its_own_has_the_sessions_weight_lowered_at_once():
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert autogroup_nice(sleeper.pid) == 0
        cli.lower_session_priority(sleeper.pid, 10)
        assert autogroup_nice(sleeper.pid) == 10
    finally:
        sleeper.kill()
        sleeper.wait()


@needs_autogroups
def test_a_session_already_lower_is_not_raised_back():
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        cli.lower_session_priority(sleeper.pid, 15)
        cli.lower_session_priority(sleeper.pid, 10)
        assert autogroup_nice(sleeper.pid) == 15
    finally:
        sleeper.kill()
        sleeper.wait()


CAN_DROP_PRIVILEGE = AUTOGROUPS and os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not CAN_DROP_PRIVILEGE, reason="needs root and setpriv to run a process without CAP_SYS_ADMIN")
def test_without_privilege_every_worker_of_the_stack_is_lowered_though_the_kernel_takes_one_write_per_100_ms():
    # as in a container (no CAP_SYS_ADMIN): the kernel refuses a second write within 100 ms, and it is tried again
    code = textwrap.dedent("""
        import subprocess, cli
        workers = [subprocess.Popen(["sleep", "30"], start_new_session=True) for _ in range(3)]
        for worker in workers:
            cli.lower_session_priority(worker.pid, 10)
        print(" ".join(open(f"/proc/{w.pid}/autogroup").read().split("nice")[1].strip() for w in workers))
        for worker in workers:
            worker.kill()
    """)
    done = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-c",
                           code], capture_output=True, text=True, timeout=60, check=False, cwd=Path(cli.__file__).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10", "10", "10"]


def run_in_a_new_session(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          check=False, start_new_session=True, cwd=Path(cli.__file__).parent)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_autogroups
def test_a_session_leader_lowers_its_own_priority_and_its_sessions():
    printed = run_in_a_new_session("""
        import os, cli
        cli.lower_priority(10)
        print(os.getpriority(os.PRIO_PROCESS, 0), open("/proc/self/autogroup").read().split("nice")[1].strip())
    """)
    assert printed == "10 10"


@needs_autogroups
def test_a_process_inside_another_session_leaves_that_sessions_weight_alone():
    printed = run_in_a_new_session("""
        import os, subprocess, sys
        child = subprocess.run([sys.executable, "-c", "import os, cli; cli.lower_priority(10); "
                                "print(os.getpriority(os.PRIO_PROCESS, 0))"], capture_output=True, text=True)
        print(child.stdout.strip(), open("/proc/self/autogroup").read().split("nice")[1].strip())
    """)
    assert printed == "10 0"  # the process itself is lowered; its parent's session keeps its weight


def test_no_priority_asked_changes_nothing():
    printed = run_in_a_new_session("""
        import os, cli
        cli.lower_priority(0)
        print(os.getpriority(os.PRIO_PROCESS, 0))
    """)
    assert printed == str(os.getpriority(os.PRIO_PROCESS, 0))  # what it inherited, unchanged
