"""celerylint.tables and celerylint.versions: the shipped Celery tables and what they answer.

The tables themselves are proven against real releases: here by regenerating every
one from PyPI (scripts/celery_tables.py --check), in tests/test_differential.py
against each Celery that .ci/run installs.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from celerylint import tables
from celerylint.tables import (DEFAULT_VISIBILITY_TIMEOUT, NEWEST_KNOWN, SUPPORTED_VERSIONS,
                               TRANSPORT_KINDS, table)
from celerylint.versions import (LOWERCASE_SETTINGS_SINCE, added_in, removed_in, setting_default,
                                 setting_elsewhere, setting_keys)

from conftest import FIXTURES, REPO

EVERY_MINOR = [(3, 1), (4, 0), (4, 1), (4, 2), (4, 3), (4, 4), (5, 0), (5, 1), (5, 2), (5, 3),
               (5, 4), (5, 5), (5, 6), (5, 7)]


@pytest.mark.slow
def test_regenerating_from_the_releases_on_pypi_gives_the_shipped_file(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "celery_tables.py"), "--check",
                           "--downloads", str(tmp_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    assert done.returncode == 0, done.stdout
    assert "up to date" in done.stdout


def test_every_minor_from_3_1_to_5_7_has_its_own_table():
    assert SUPPORTED_VERSIONS == tuple(EVERY_MINOR)
    assert NEWEST_KNOWN == (5, 7)
    assert [table(v).version for v in EVERY_MINOR] == EVERY_MINOR
    releases = {t.version: t.release for t in tables.tables()}
    assert releases[(3, 1)] == "3.1.26.post2" and releases[(4, 4)] == "4.4.7"
    assert releases[(5, 3)] == "5.3.6" and releases[(5, 7)] == "5.7.0"


def test_versions_without_a_table_use_the_release_before_them():
    assert table((5, 9)).version == (5, 7)
    assert table((6, 0)).version == (5, 7)
    assert table((3, 0)).version == (3, 1)
    assert table((2, 5)).version == (3, 1)


def test_config_takes_the_newest_known_version_from_the_tables():
    from celerylint import config

    assert config.NEWEST_KNOWN is tables.NEWEST_KNOWN


def test_defaults_are_each_releases_own():
    # what versions.DEFAULTS_BEFORE used to copy by hand, now read from the releases
    assert setting_default("event_queue_ttl", (3, 1)).value is None
    assert setting_default("event_queue_ttl", (4, 0)).value == 5.0
    assert setting_default("event_queue_expires", (3, 1)).value is None
    assert setting_default("event_queue_expires", (4, 0)).value == 60.0
    assert setting_default("task_serializer", (3, 1)).value == "pickle"
    assert setting_default("task_serializer", (4, 0)).value == "json"
    assert setting_default("accept_content", (3, 1)).value == ["json", "pickle", "msgpack", "yaml"]
    assert setting_default("accept_content", (5, 7)).value == ["json"]
    # defaults that changed between later releases, which the installed Celery hid
    assert setting_default("worker_concurrency", (5, 1)).value == 0
    assert setting_default("worker_concurrency", (5, 2)).value is None
    assert setting_default("event_queue_exclusive", (5, 6)).value is False
    assert setting_default("event_queue_exclusive", (5, 7)).value is True
    assert setting_default("result_expires", (5, 7)).value == {"$timedelta": 86400.0}


def test_a_default_that_is_not_plain_data_is_unknown():
    default = setting_default("result_backend_max_retries", (5, 7))  # float("inf")
    assert not default.known
    assert setting_default("no_such_setting", (5, 7)).value is None  # Celery reads nothing


def test_each_release_has_its_own_names_and_old_names():
    assert "worker_eta_task_limit" not in setting_keys((5, 5))
    assert "worker_eta_task_limit" in setting_keys((5, 6))
    assert "task_default_queue_type" not in setting_keys((5, 4))
    assert "task_default_queue_type" in setting_keys((5, 5))
    assert "result_accept_content" not in setting_keys((4, 2))
    # Celery 4.0.2's old name of worker_send_task_events is CELERYD_SEND_EVENTS (4.1 on:
    # CELERY_SEND_EVENTS, as in 3.1)
    assert table((4, 0)).new_to_old["worker_send_task_events"] == "CELERYD_SEND_EVENTS"
    assert table((4, 1)).new_to_old["worker_send_task_events"] == "CELERY_SEND_EVENTS"
    assert table((3, 1)).new_to_old["worker_send_task_events"] == "CELERY_SEND_EVENTS"
    assert table((3, 1)).new_to_old["enable_utc"] == "CELERY_ENABLE_UTC"
    assert table((5, 7)).new_to_old["enable_utc"] == "ENABLE_UTC"


def test_celery_3_1_has_only_uppercase_names():
    old = table((3, 1))
    assert not old.lowercase_names and table((4, 0)).lowercase_names
    assert LOWERCASE_SETTINGS_SINCE == (4, 0)
    assert all(key.isupper() for key in old.old_keys)
    assert old.old_to_new["CELERY_EVENT_QUEUE_TTL"] == "event_queue_ttl"
    assert old.old_to_new["CELERYD_AUTORELOADER"] == "celeryd_autoreloader"  # 4.0 dropped it
    assert "celeryd" not in old.new_groups  # stand-in names are no setting family


def test_added_and_removed_releases():
    assert added_in("worker_eta_task_limit", (5, 3)) == (5, 6)
    assert added_in("worker_eta_task_limit", (5, 6)) is None
    assert added_in("riak_backend_settings", (5, 7)) is None
    assert removed_in("riak_backend_settings", (5, 7)) == (5, 0)
    assert removed_in("riak_backend_settings", (4, 4)) is None
    assert removed_in("celeryd_autoreloader", (4, 4)) == (4, 0)
    assert removed_in("worker_eta_task_limit", (5, 3)) is None


def test_a_key_is_looked_up_in_the_other_releases():
    assert (
        setting_elsewhere("CELERY_RIAK_BACKEND_SETTINGS", None, (5, 7)) == "riak_backend_settings"
    )
    assert setting_elsewhere("CELERY_TASK_QUEUE_HA_POLICY", "CELERY", (5, 7)) == \
        "task_queue_ha_policy"
    assert setting_elsewhere("worker_eta_task_limit", None, (5, 3)) == "worker_eta_task_limit"
    assert setting_elsewhere("CELERY_SEND_EVENTS", None, (4, 0)) == "worker_send_task_events"
    assert setting_elsewhere("celeryd_autoreloader", None, (5, 7)) is None  # 3.1: uppercase only
    assert setting_elsewhere("task_ack_late", None, (5, 7)) is None


def test_kombu_facts():
    assert {alias: TRANSPORT_KINDS[alias] for alias in
            ("amqp", "amqps", "pyamqp", "librabbitmq", "redis", "rediss", "sentinel", "sqs")} == {
        "amqp": "amqp", "amqps": "amqp", "pyamqp": "amqp", "librabbitmq": "amqp",
        "redis": "redis", "rediss": "redis", "sentinel": "redis", "sqs": "sqs"}
    assert TRANSPORT_KINDS["memory"] == TRANSPORT_KINDS["filesystem"] == "other"
    assert DEFAULT_VISIBILITY_TIMEOUT == {"redis": 3600.0, "sqs": 1800.0}
    kombu = tables._data()["kombu"]
    lowered = {}
    for data in kombu["releases"].values():
        for alias in data["transport_aliases"]:
            kind = kombu["transport_kinds"][alias]
            assert lowered.setdefault(alias.lower(), kind) == kind  # lower-casing merges nothing


def test_the_data_file_is_the_generators_output_format():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import celery_tables
    finally:
        sys.path.remove(str(REPO / "scripts"))
    shipped = (REPO / "celerylint" / "data" / "celery.json").read_text(encoding="utf-8")
    assert celery_tables.dumps(json.loads(shipped)) == shipped


IMPORTED = textwrap.dedent("""
    import io, json, sys
    from contextlib import redirect_stdout
    {run}
    print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("celery", "kombu"))))
""")


def imported_modules(code: str, cwd) -> list:
    done = subprocess.run([sys.executable, "-c", IMPORTED.format(run=code)], cwd=str(cwd),
                          capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_full_check_imports_neither_celery_nor_kombu():
    import celery  # noqa: F401  (installed beside the linter: the test extra)

    run = textwrap.dedent("""
        from celerylint.cli import main
        with redirect_stdout(io.StringIO()) as out:
            code = main(["check", "--no-cache", "-j", "1", "--target-version", "3.1"])
        assert code == 1 and "CEL106" in out.getvalue(), out.getvalue()
        for version in ("4.4", "5.3", "5.7"):
            with redirect_stdout(io.StringIO()):
                main(["check", "--no-cache", "-j", "1", "--target-version", version])
    """)
    assert imported_modules(run, FIXTURES / "CEL106_31") == []


@pytest.mark.slow
def test_the_flake8_plugin_imports_neither_celery_nor_kombu(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "flake8_project", project)  # the plugin writes its cache there
    run = textwrap.dedent("""
        from flake8.main.cli import main
        try:
            main(["--select", "CEL", "-j", "1", "--output-file", "out.txt", "proj"])
        except SystemExit:
            pass
        assert "CEL" in open("out.txt").read()
    """)
    assert imported_modules(run, project) == []


def test_an_apps_defaults_are_the_target_releases():
    from celerylint.parse import parse_and_extract
    from celerylint.project import Project

    facts = parse_and_extract('from celery import Celery\napp = Celery("proj")\n',
                              "proj/celery.py", "proj.celery", False)

    def app(version):
        (found,) = Project([facts], version).apps
        return found

    assert app((5, 6)).value("event_queue_exclusive").value is False
    assert app((5, 7)).value("event_queue_exclusive").value is True
    assert app((3, 1)).value("task_serializer").value == "pickle"
    assert app((5, 4)).value("task_default_queue_type").value is None  # 5.5 added it
    assert app((5, 5)).value("task_default_queue_type").value == "classic"
    assert not app((5, 7)).value("result_backend_max_retries").known
