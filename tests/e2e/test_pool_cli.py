"""`mediation experts` and `mediation institutions`: an administrator loads the city's expert pool from a file
(Reg 35). A bad file is refused with every bad row named and changes nothing (exit code 2); --skip-invalid
imports the good rows; the exported file imports back unchanged.

Cheap: the console script runs on a temporary SQLite database (MEDIATION_DATABASE_URL), without the stack.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select

from domain.pool import COLUMNS
from models.tables import Affiliation, Expert, Institution, InstitutionGroup
from tests.e2e.conftest import MEDIATION

HEADER = ",".join(COLUMNS)
INSTITUTIONS = """id,name,city,group_id,group_name,address
t-main,上海市测试区人民医院,上海市,t-group,上海市测试区医疗集团,测试路1号
t-east,上海市测试区人民医院东院,上海市,t-group,,测试路99号
t-law,上海测试律师事务所,上海市,,,
"""
GOOD = f"""{HEADER}
T-1,上海市,张建华,主任医师,产科;妇科,黄浦区,true,3,13916000001,,,t-main:2010-01-01:2020-06-30;t-east:2020-07-01:,
T-2,上海市,李律师,律师,法学,静安区,true,2,13916000002,,,t-law:2015-01-01:,王芳:配偶:310101197205200026
T-3,北京市,王医生,副主任医师,骨科,朝阳区,false,3,,,,,
"""
BAD = f"""{HEADER}
T-1,上海市,张建华,主任医师,产科,黄浦区,true,3,13916000001,,,t-main:2010-01-01:,
T-2,上海市,李律师,律师,骨头科,静安区,true,0,13916000002,,,,
T-3,上海市,王医生,副主任医师,骨科,朝阳区,true,3,,,,nowhere:2020-01-01:,
T-1,上海市,张建华,主任医师,产科,黄浦区,true,3,,,,,
"""


@pytest.fixture
def run(tmp_path: Path):
    env = {**os.environ, "MEDIATION_DATABASE_URL": f"sqlite:///{tmp_path / 'pool.db'}",
           "MEDIATION_DATA_DIR": str(tmp_path / "data"), "MEDIATION_LOG_LEVEL": "WARNING"}

    def mediation(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MEDIATION, *args], env=env, capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, check=False)

    return mediation


@pytest.fixture
def db(tmp_path: Path):
    def session() -> Session:
        return Session(create_engine(f"sqlite:///{tmp_path / 'pool.db'}"))

    return session


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_institutions_are_imported_with_their_group(run, db, tmp_path):  # Reg 37: the sites of a group
    result = run("institutions", "import", write(tmp_path, "institutions.csv", INSTITUTIONS))
    assert result.returncode == 0, result.stderr
    assert "imported: 3, updated: 0, groups created: 1" in result.stdout
    with db() as session:
        assert session.get(InstitutionGroup, "t-group").name == "上海市测试区医疗集团"
        sites = session.exec(select(Institution.id).where(Institution.group_id == "t-group")).all()
        assert sorted(sites) == ["t-east", "t-main"]


def test_a_bad_pool_file_is_refused_with_every_bad_row_and_nothing_is_imported(run, db, tmp_path):  # Reg 35
    run("institutions", "import", write(tmp_path, "institutions.csv", INSTITUTIONS))
    result = run("experts", "import", write(tmp_path, "bad.csv", BAD))
    assert result.returncode == 2
    for expected in ("row 3: specialties", "row 3: max_concurrent", "row 4: affiliations", "row 5: id",
                     "nothing imported"):
        assert expected in result.stderr, result.stderr
    assert "row 2:" not in result.stderr  # the good row is not blamed
    with db() as session:
        assert session.exec(select(Expert)).all() == []


def test_skip_invalid_imports_the_good_rows(run, db, tmp_path):
    run("institutions", "import", write(tmp_path, "institutions.csv", INSTITUTIONS))
    result = run("experts", "import", write(tmp_path, "bad.csv", BAD), "--skip-invalid")
    assert result.returncode == 0, result.stderr
    assert "imported: 1, updated: 0, skipped: 3" in result.stdout
    assert "row 4: affiliations" in result.stderr
    with db() as session:
        assert session.exec(select(Expert.id)).all() == ["T-1"]


def test_a_good_file_is_imported_with_a_progress_bar_then_exported_and_imported_back(run, db, tmp_path):
    run("institutions", "import", write(tmp_path, "institutions.csv", INSTITUTIONS))
    result = run("experts", "import", write(tmp_path, "pool.csv", GOOD))
    assert result.returncode == 0, result.stderr
    assert "imported: 3, updated: 0, skipped: 0" in result.stdout
    assert "100%  3/3 experts" in result.stderr  # the progress bar
    with db() as session:
        assert session.get(Expert, "T-1").specialties == ["obstetrics", "gynecology"]
        assert len(session.exec(select(Affiliation).where(Affiliation.expert_id == "T-1")).all()) == 2

    exported = tmp_path / "out.csv"
    result = run("experts", "export", str(exported), "--city", "上海市")
    assert result.returncode == 0, result.stderr
    assert "exported: 2 experts" in result.stdout
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == HEADER and [line.split(",")[0] for line in lines[1:]] == ["T-1", "T-2"]

    again = run("experts", "import", str(exported))
    assert again.returncode == 0, again.stderr
    assert "imported: 0, updated: 2, skipped: 0" in again.stdout
    second = tmp_path / "again.csv"
    run("experts", "export", str(second), "--city", "上海市")
    assert second.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")


def test_init_db_seeds_a_demo_pool_once(run, db):  # `make run` has a pool to draw from
    assert run("init-db").returncode == 0
    assert run("init-db").returncode == 0  # idempotent
    with db() as session:
        experts = session.exec(select(Expert)).all()
        main = session.exec(select(Institution).where(Institution.name == "上海市某区人民医院")).one()
        assert len(experts) == 60 and main.group_id is not None
        at_group = session.exec(select(Affiliation.expert_id).join(Institution).where(
            Institution.group_id == main.group_id)).all()
        assert len(set(at_group)) >= 5  # experts the draw must exclude for a case against that hospital


def test_an_unreadable_file_is_exit_code_2(run, tmp_path):
    result = run("experts", "import", str(tmp_path / "missing.csv"))
    assert result.returncode == 2 and "cannot read" in result.stderr
