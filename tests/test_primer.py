"""The primer (benchmarks/primer.py) without the network: a tiny synthetic sdist, pinned by
its sha256 and already in the work folder, goes through the whole run -- unpack, project
root, celerylint, view statistics, comparison with a triage -- so the tool does not rot.

The committed triage itself is checked too: every entry labelled, with a reason, for a
pinned project.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Dict

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import primer  # noqa: E402

PKG_INFO = ("Metadata-Version: 2.1\nName: demo\nVersion: {version}\nRequires-Python: >=3.9\n"
            "Requires-Dist: celery>=5.3\nRequires-Dist: requests\n")
CELERY_APP = ('from celery import Celery\n\napp = Celery("proj")\n'
              'app.config_from_object("proj.celeryconfig")\n')
TASKS = "from proj.celery import app\n\n\n@app.task\ndef ping():\n    return 1\n"
CONFIG = ('BROKER_URL = "redis://"\n'
          "CELERY_ACKS_LATE = True\n"
          "CELERYBEAT_SCHEDULE = {\n"
          '    "ping": {"task": "proj.tasks.ping", "schedule": 30.0},\n'
          "}\n")


def make_sdist(directory: Path, version: str, files: Dict[str, str]) -> primer.Pin:
    """A demo-VERSION.tar.gz in ``directory`` and the Pin that names it."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"demo-{version}.tar.gz"
    members = dict(files, **{"PKG-INFO": PKG_INFO.format(version=version)})
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in sorted(members.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"demo-{version}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return primer.Pin("demo", version, "sdist", "3.11", digest, "test", "synthetic")


def demo_files(config: str) -> Dict[str, str]:
    return {"proj/__init__.py": "", "proj/celery.py": CELERY_APP, "proj/tasks.py": TASKS,
            "proj/celeryconfig.py": config}


def run_primer(monkeypatch, capsys, pin, work: Path, triage: Path, *extra: str) -> str:
    monkeypatch.setattr(primer, "PROJECTS", (pin,))
    code = primer.main(["--work", str(work), "--triage", str(triage), "--jobs", "1", *extra])
    assert code == 0, capsys.readouterr()
    return (work / "report.md").read_text(encoding="utf-8")


def entries(triage: Path):
    return json.loads(triage.read_text(encoding="utf-8"))["findings"]


def test_a_run_is_compared_with_the_triage_and_labels_survive_line_shifts(tmp_path, monkeypatch,
                                                                            capsys):
    work, triage = tmp_path / "work", tmp_path / "triage.json"
    pin = make_sdist(work / "archives", "1.0", demo_files(CONFIG))

    report = run_primer(monkeypatch, capsys, pin, work, triage, "--write-triage")
    assert "| CEL202 | 3 | 0 | 0 | 0 | 3 | – |" in report
    assert "| CEL107 | 1 | 0 | 0 | 0 | 1 | – |" in report
    assert "## Appeared since the triage was written (4)" in report
    written = entries(triage)
    assert sorted((e["code"], e["line"], e["label"]) for e in written) == [
        ("CEL107", 4, "untriaged"), ("CEL202", 1, "untriaged"), ("CEL202", 2, "untriaged"),
        ("CEL202", 3, "untriaged")]
    assert all(e["project"] == "demo" and e["path"] == "proj/celeryconfig.py" for e in written)
    # The folder was made a project root from the sdist's PKG-INFO, nothing invented.
    pyproject = (work / "src" / "demo-1.0" / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.9"' in pyproject
    assert 'dependencies = ["celery>=5.3"]' in pyproject and "requests" not in pyproject
    # View statistics: one app, its task, its beat entry linked.
    assert "| 1 (3) | 1 / 1 | 0 / 0 | 1 / 1 |" in report

    labels = {1: ("wrong", "a reason"), 2: ("debatable", "another"), 3: ("right", "a third"),
              4: ("right", "fourth")}
    for entry in written:
        entry["label"], entry["reason"] = labels[entry["line"]]
    triage.write_text(json.dumps({"format": 1, "findings": written}), encoding="utf-8")

    # A new release: two lines on top (every finding moves), CELERY_ACKS_LATE gone and
    # CELERYD_CONCURRENCY new.
    shifted = "# a comment\n\n" + CONFIG.replace("CELERY_ACKS_LATE = True",
                                                  "CELERYD_CONCURRENCY = 2")
    pin2 = make_sdist(work / "archives", "2.0", demo_files(shifted))
    report = run_primer(monkeypatch, capsys, pin2, work, triage)
    assert "| CEL202 | 3 | 1 | 1 | 0 | 1 | 50 % |" in report
    assert "| CEL107 | 1 | 1 | 0 | 0 | 0 | 100 % |" in report
    assert "| **all** | 4 | 2 | 1 | 0 | 1 | 67 % |" in report
    assert "## Appeared since the triage was written (1)" in report
    assert "`proj/celeryconfig.py:4` CEL202 CELERYD_CONCURRENCY" in report
    assert "## Vanished since the triage was written (1)" in report
    assert "`proj/celeryconfig.py:2` CEL202 (debatable) CELERY_ACKS_LATE" in report
    assert "## Wrong findings (1)" in report
    assert "`proj/celeryconfig.py:3` CEL202 BROKER_URL" in report and "-- a reason" in report

    run_primer(monkeypatch, capsys, pin2, work, triage, "--write-triage")
    after = {(e["code"], e["message"].split()[0]): e for e in entries(triage)}
    assert after[("CEL202", "BROKER_URL")]["label"] == "wrong"
    assert after[("CEL202", "BROKER_URL")]["reason"] == "a reason"
    assert after[("CEL202", "BROKER_URL")]["line"] == 3  # refreshed, label kept
    assert after[("CEL202", "CELERYD_CONCURRENCY")]["label"] == "untriaged"
    assert after[("CEL202", "CELERY_ACKS_LATE")]["label"] == "debatable"  # vanished, kept
    assert len(after) == 5


def test_the_fingerprint_ignores_indentation_and_spacing_but_not_the_text():
    spaced, plain = '    "ping":  {"task": 1},', '"ping": {"task": 1},'
    assert primer.fingerprint(spaced) == primer.fingerprint(plain)
    assert primer.fingerprint("BROKER_URL = 1") != primer.fingerprint("BROKER_URL = 2")


def test_equal_lines_are_told_apart_by_their_order():
    finding = {"path": "a.py", "code": "CEL201", "fingerprint": "f", "column": 1, "message": "m"}
    keyed = primer.keyed("p", [dict(finding, line=9), dict(finding, line=2)])
    assert [(key[4], found["line"]) for key, found in sorted(keyed.items())] == [(0, 2), (1, 9)]


def test_the_project_root_is_written_only_when_missing(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    assert primer.make_project_root(bare) == "written"
    assert (bare / "pyproject.toml").read_text().endswith("[tool.celerylint]\n")
    assert "[project]" not in (bare / "pyproject.toml").read_text()  # nothing declared

    own = tmp_path / "own"
    own.mkdir()
    (own / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.10"\n')
    assert primer.make_project_root(own) == "own pyproject.toml + empty table"
    text = (own / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "x"\nrequires-python = ">=3.10"\n')
    assert primer.has_celerylint_table(own / "pyproject.toml")

    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "pyproject.toml").write_text('[tool.celerylint]\nselect = ["CEL1"]\n')
    assert primer.make_project_root(configured) == "own [tool.celerylint]"
    assert (configured / "pyproject.toml").read_text() == '[tool.celerylint]\nselect = ["CEL1"]\n'


def test_unpacking_keeps_regular_files_inside_the_folder_only(tmp_path):
    archive = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        # Were the guard broken, these would land in tmp_path, not elsewhere on the disk.
        for name in ("evil-1.0/ok.py", "evil-1.0/../escape.py", str(tmp_path / "abs.py")):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
        link = tarfile.TarInfo("evil-1.0/link.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    pin = primer.Pin("evil", "1.0", "sdist", "3.11", "", "test")
    root = primer.unpack(pin, archive, tmp_path / "out")
    assert sorted(p.name for p in root.rglob("*")) == ["ok.py"]
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "abs.py").exists()


def test_an_archive_that_is_not_the_pinned_one_is_refused(tmp_path):
    pin = make_sdist(tmp_path, "1.0", {"a.py": ""})
    wrong = primer.Pin(pin.name, pin.version, pin.kind, pin.python, "0" * 64, "test")
    with pytest.raises(primer.PrimerError, match="sha256"):
        primer.download(wrong, tmp_path)
    assert primer.download(pin, tmp_path) == tmp_path / "demo-1.0.tar.gz"


def test_the_work_folder_must_be_outside_the_checkout(capsys):
    with pytest.raises(SystemExit) as stopped:
        primer.main(["--work", str(BENCHMARKS / "primer-work")])
    assert stopped.value.code == 2
    assert "outside this checkout" in capsys.readouterr().err


def test_the_pins_and_the_committed_triage_agree():
    keys = [pin.key for pin in primer.PROJECTS]
    assert len(keys) == len(set(keys)) >= 15
    assert all(pin.kind in ("sdist", "wheel") and len(pin.sha256) == 64 and pin.why
               for pin in primer.PROJECTS)
    triage = primer.load_triage(primer.TRIAGE)
    assert triage, "the committed triage is empty"
    assert len({primer.entry_key(e) for e in triage}) == len(triage)
    for entry in triage:
        assert entry["project"] in keys, entry
        assert entry["label"] in ("right", "wrong", "debatable"), entry  # every finding triaged
        assert entry["reason"].strip() and "\n" not in entry["reason"], entry
    # The file is in the tool's own layout, so --write-triage gives no unrelated diff.
    assert primer.dump_triage(triage) == primer.TRIAGE.read_text(encoding="utf-8")


def test_a_bad_label_or_an_unknown_project_is_a_usage_error(tmp_path, capsys):
    triage = tmp_path / "triage.json"
    triage.write_text(json.dumps({"format": 1, "findings": [
        {"project": "pretix", "path": "a.py", "code": "CEL103", "fingerprint": "f",
         "label": "fine", "reason": "x"}]}))
    with pytest.raises(SystemExit) as stopped:
        primer.main(["--work", str(tmp_path / "w"), "--triage", str(triage)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "label 'fine' is not one of right, wrong, debatable, untriaged" in error
    with pytest.raises(SystemExit) as stopped:
        primer.main(["--work", str(tmp_path / "w"), "--projects", "pretix,nosuch"])
    assert stopped.value.code == 2
    assert "unknown project(s): nosuch" in capsys.readouterr().err
