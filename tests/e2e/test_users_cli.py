"""`mediation users`: an administrator creates accounts and resets passwords from the command line; passwords
are stored as Argon2 hashes and a reset revokes the tokens issued before."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlmodel import Session, create_engine, select

from core.security import verify_password
from models.users import User
from tests.e2e.conftest import MEDIATION


def mediation(tmp_path: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIATION_DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}",
           "MEDIATION_DATA_DIR": str(tmp_path)}
    return subprocess.run([MEDIATION, *args], env=env, capture_output=True, text=True, timeout=120,
                          input=None if password is None else password + "\n")


def stored(tmp_path: Path, username: str) -> User:
    with Session(create_engine(f"sqlite:///{tmp_path / 'users.db'}")) as session:
        return session.exec(select(User).where(User.username == username)).one()


def test_an_admin_creates_a_director_and_resets_the_password(tmp_path):
    created = mediation(tmp_path, "users", "create", "zhao", "--role", "director", "--name", "赵主任",
                        "--committee", "huangpu", "--password-stdin", password="a long password 1")
    assert created.returncode == 0, created.stderr
    user = stored(tmp_path, "zhao")
    assert (user.role, user.committee_id, user.full_name) == ("director", "huangpu", "赵主任")
    assert verify_password("a long password 1", user.password_hash) and user.token_version == 0

    reset = mediation(tmp_path, "users", "reset-password", "zhao", "--password-stdin", password="another password")
    assert reset.returncode == 0, reset.stderr
    user = stored(tmp_path, "zhao")
    assert verify_password("another password", user.password_hash) and user.token_version == 1


def test_a_taken_username_a_short_password_and_an_unknown_user_are_refused(tmp_path):
    assert mediation(tmp_path, "users", "create", "qian", "--role", "auditor", "--password-stdin",
                     password="a long password 2").returncode == 0
    taken = mediation(tmp_path, "users", "create", "qian", "--role", "auditor", "--password-stdin",
                      password="a long password 3")
    assert taken.returncode == 2 and "taken" in taken.stderr
    short = mediation(tmp_path, "users", "create", "sun", "--role", "admin", "--password-stdin", password="short")
    assert short.returncode == 2 and "10 characters" in short.stderr
    unknown = mediation(tmp_path, "users", "reset-password", "nobody", "--password-stdin",
                        password="a long password 4")
    assert unknown.returncode == 2 and "not found" in unknown.stderr
