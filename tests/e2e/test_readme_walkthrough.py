"""The README's walk-through, run as written against the embedded stack: what we tell users works."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```sh\n(API=http://127\.0\.0\.1:8000\n.*?)```", readme, re.S)
    assert match, "the README has a curl walk-through starting with API=http://127.0.0.1:8000"
    return match.group(1)


def test_the_readme_walkthrough_runs_from_registration_to_the_archived_file(running_stack, tmp_path):
    script = walkthrough().replace("API=http://127.0.0.1:8000", f"API={running_stack.base}", 1)
    # each curl bounded, and the whole script in a session of its own: a stalled request fails the test with what
    # was printed so far instead of hanging it (a timeout alone would leave curl holding the output pipes open)
    script = script.replace("curl -s", "curl -s --max-time 60")
    with subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise AssertionError(f"the walk-through did not finish in 180 s:\n{stderr}{stdout}") from None
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert [line for line in lines if line in ("signing", "performance")] == [
        "signing", "signing", "signing", "performance"
    ]
    assert lines[-1].split("\t") == ["12", "archive", "settled", "archived"]
    assert '"performance"' in lines  # record-payment: one term paid in full, the case still in performance
    pdf = (tmp_path / "agreement.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() in result.stdout  # sha256sum matches the documented hash
    assert (tmp_path / "agreement-en.pdf").read_bytes().startswith(b"%PDF")
    # the effective agreement is sealed by the committee; the draft the parties signed is not (Reg 39, rev 2)
    assert any(line.startswith('{"verified":true') for line in lines), result.stdout
    assert '{"hash_matches":true,"sealed":false}' in lines
