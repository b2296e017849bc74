from __future__ import annotations

import os
from pathlib import Path

import pytest

from celerylint.files import Source, decode_lines, discover, read_source

DEFAULT_EXCLUDE = [
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    "*.egg-info",
]


def write(path: Path, data="x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_bytes(data.encode("utf-8"))
    return path


def names(files) -> list:
    return [path.as_posix() for path in files]


def make_unreadable(path: Path, request) -> None:
    """chmod 000 the path, or skip when we can still read it (e.g. as root)."""
    mode = path.stat().st_mode
    path.chmod(0)
    request.addfinalizer(lambda: path.chmod(mode))
    if os.access(path, os.R_OK):
        pytest.skip("chmod 000 does not stop this user from reading (root?)")


# ---------------------------------------------------------------- discovery


def test_discover_walks_nested_directories(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "top.py")
    write(tmp_path / "pkg" / "__init__.py")
    write(tmp_path / "pkg" / "sub" / "deep" / "tasks.py")
    write(tmp_path / "pkg" / "notes.txt")

    files, problems = discover([Path(".")], DEFAULT_EXCLUDE)

    assert names(files) == ["pkg/__init__.py", "pkg/sub/deep/tasks.py", "top.py"]
    assert problems == []


def test_discover_skips_default_excluded_and_venv_dirs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.py")
    write(tmp_path / ".git" / "hook.py")
    write(tmp_path / "venv" / "lib" / "site.py")
    write(tmp_path / "node_modules" / "pkg" / "x.py")
    write(tmp_path / "build" / "lib" / "app.py")
    write(tmp_path / "celerylint.egg-info" / "x.py")
    write(tmp_path / "my-odd-env" / "pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path / "my-odd-env" / "lib" / "celery.py")

    files, problems = discover([Path(".")], DEFAULT_EXCLUDE)

    assert names(files) == ["app.py"]
    assert problems == []


def test_discover_extend_exclude_by_glob_and_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pkg" / "tasks.py")
    write(tmp_path / "pkg" / "tasks_pb2.py")
    write(tmp_path / "pkg" / "generated" / "schema.py")
    write(tmp_path / "other" / "generated" / "kept.py")

    files, _ = discover([Path(".")], DEFAULT_EXCLUDE, extend_exclude=["*_pb2.py", "pkg/generated"])

    assert names(files) == ["other/generated/kept.py", "pkg/tasks.py"]


def test_discover_relative_exclude_is_relative_to_root(tmp_path, monkeypatch):
    project = tmp_path / "project"
    write(project / "pkg" / "generated" / "schema.py")
    write(project / "pkg" / "tasks.py")
    monkeypatch.chdir(tmp_path)

    files, _ = discover([project], [], extend_exclude=["pkg/generated"], root=project)

    assert files == [project / "pkg" / "tasks.py"]


def test_discover_includes_explicit_file_whatever_its_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bin" / "worker")
    write(tmp_path / "celeryconfig.py")

    files, problems = discover([Path("bin/worker"), Path("celeryconfig.py")], DEFAULT_EXCLUDE)

    assert names(files) == ["bin/worker", "celeryconfig.py"]
    assert problems == []


def test_discover_explicit_paths_are_used_even_when_excluded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "tasks_pb2.py")
    write(tmp_path / "build" / "app.py")
    write(tmp_path / "build" / "lib" / "util.py")
    write(tmp_path / "app.py")
    given = [Path("tasks_pb2.py"), Path("build/app.py"), Path("app.py"), Path("build/lib")]

    files, _ = discover(given, DEFAULT_EXCLUDE, extend_exclude=["*_pb2.py"])

    assert names(files) == ["app.py", "build/app.py", "build/lib/util.py", "tasks_pb2.py"]


def test_discover_force_exclude_drops_excluded_explicit_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "tasks_pb2.py")
    write(tmp_path / "build" / "app.py")
    write(tmp_path / "build" / "lib" / "util.py")
    write(tmp_path / "venv" / "pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path / "venv" / "lib" / "site.py")
    write(tmp_path / "app.py")
    given = [Path("tasks_pb2.py"), Path("build/app.py"), Path("app.py"), Path("build/lib"),
             Path("venv/lib/site.py")]

    files, _ = discover(given, DEFAULT_EXCLUDE, extend_exclude=["*_pb2.py"], force_exclude=True)

    assert names(files) == ["app.py"]


def test_discover_root_directory_is_walked_even_if_its_name_is_excluded(tmp_path, monkeypatch):
    project = tmp_path / "build"
    write(project / "app.py")
    monkeypatch.chdir(project)

    files, _ = discover([Path(".")], DEFAULT_EXCLUDE)

    assert names(files) == ["app.py"]


def test_discover_reports_missing_path_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.py")

    files, problems = discover([Path("missing.py"), Path("app.py")], DEFAULT_EXCLUDE)

    assert names(files) == ["app.py"]
    assert len(problems) == 1
    path, reason = problems[0]
    assert path == Path("missing.py")
    assert "no such file" in reason.lower()
    assert "\n" not in reason


def test_discover_reports_unreadable_directory(tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.py")
    locked = tmp_path / "locked"
    write(locked / "hidden.py")
    make_unreadable(locked, request)

    files, problems = discover([Path(".")], DEFAULT_EXCLUDE)

    assert names(files) == ["app.py"]
    assert [(path.as_posix(), "denied" in reason.lower()) for path, reason in problems] == [
        ("locked", True)
    ]


def test_discover_does_not_follow_symlink_loops(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pkg" / "tasks.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "pkg" / "self").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")

    files, problems = discover([Path(".")], DEFAULT_EXCLUDE)

    assert names(files) == ["pkg/tasks.py"]
    assert problems == []


def test_discover_follows_symlinked_files_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "real.py")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    write(tmp_path / "pkg" / "tasks.py")

    files, _ = discover([Path("."), Path("pkg"), Path("pkg/tasks.py")], DEFAULT_EXCLUDE)

    # alias.py and real.py are one file; pkg/tasks.py is reached three times.
    assert names(files) == ["alias.py", "pkg/tasks.py"]


def test_discover_skips_template_directories_by_default(tmp_path, monkeypatch):
    from celerylint.config import DEFAULT_EXCLUDE as DEFAULTS

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.py")
    write(tmp_path / "{{cookiecutter.project}}" / "tasks.py", "{% if x %}\n")
    write(tmp_path / "pkg" / "{{ name }}.py", "{{ body }}\n")

    assert names(discover([Path(".")], DEFAULTS)[0]) == ["app.py"]
    assert names(discover([Path(".")], ["build"])[0]) == [  # exclude replaces the defaults
        "app.py", "pkg/{{ name }}.py", "{{cookiecutter.project}}/tasks.py"]
    given = Path("{{cookiecutter.project}}")
    assert names(discover([given], DEFAULTS)[0]) == ["{{cookiecutter.project}}/tasks.py"]


def test_discover_lists_nested_projects_without_entering_them(tmp_path, monkeypatch):
    from celerylint.files import find_files

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app.py")
    write(tmp_path / "services" / "billing" / "pyproject.toml", "")
    write(tmp_path / "services" / "billing" / "tasks.py")
    write(tmp_path / "services" / "common.py")
    calls = []

    def starts_project(directory, entry_names):
        calls.append(directory)
        return "pyproject.toml" in entry_names

    found = find_files([Path(".")], DEFAULT_EXCLUDE, starts_project=starts_project)

    assert names(found.files) == ["app.py", "services/common.py"]
    assert found.nested == [Path("services/billing")]
    assert str(tmp_path) not in calls  # the given directory itself is never another project
    found = find_files([Path("services/billing")], DEFAULT_EXCLUDE, starts_project=starts_project)
    assert names(found.files) == ["services/billing/tasks.py"] and found.nested == []


def test_discover_respects_gitignore(tmp_path, monkeypatch):
    from celerylint.gitignore import GitIgnore

    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".gitignore", "generated/\n*_pb2.py\n!keep_pb2.py\n")
    write(tmp_path / "app.py")
    write(tmp_path / "api_pb2.py")
    write(tmp_path / "keep_pb2.py")
    write(tmp_path / "generated" / "schema.py")
    write(tmp_path / "pkg" / ".gitignore", "/local.py\n")
    write(tmp_path / "pkg" / "local.py")
    write(tmp_path / "pkg" / "sub" / "local.py")

    files, _ = discover([Path(".")], DEFAULT_EXCLUDE, gitignore=GitIgnore(str(tmp_path)))
    assert names(files) == ["app.py", "keep_pb2.py", "pkg/sub/local.py"]
    files, _ = discover([Path("."), Path("generated"), Path("api_pb2.py")], DEFAULT_EXCLUDE,
                        gitignore=GitIgnore(str(tmp_path)))
    assert names(files) == ["api_pb2.py", "app.py", "generated/schema.py", "keep_pb2.py",
                            "pkg/sub/local.py"]  # explicit paths are used


def test_discover_says_when_a_walk_is_large(tmp_path, monkeypatch):
    import celerylint.files as files_module

    monkeypatch.chdir(tmp_path)
    for number in range(30):
        write(tmp_path / "pkg" / f"m{number}.py")
    monkeypatch.setattr(files_module, "LARGE_WALK_ENTRIES", 20)
    noted = []
    files, _ = discover([Path("."), Path("pkg")], DEFAULT_EXCLUDE, on_large=noted.append)
    assert len(files) == 30
    assert noted == [Path("."), Path("pkg")]
    monkeypatch.setattr(files_module, "LARGE_WALK_ENTRIES", 40)
    noted.clear()
    discover([Path(".")], DEFAULT_EXCLUDE, on_large=noted.append)
    assert noted == []


def test_discover_output_is_sorted_and_deterministic(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ["b.py", "a/z.py", "a.py", "A.py", "a/b/c.py", "a_b.py"]:
        write(tmp_path / name)

    first, _ = discover([Path(".")], DEFAULT_EXCLUDE)
    second, _ = discover([Path("a.py"), Path("."), Path("a")], DEFAULT_EXCLUDE)

    expected = sorted(["b.py", "a/z.py", "a.py", "A.py", "a/b/c.py", "a_b.py"])
    assert names(first) == expected
    assert names(second) == expected


# ---------------------------------------------------------------- reading


def test_read_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pkg" / "app.py", "name = 'café ☕'\n")

    source = read_source(Path("pkg/app.py"))

    assert source == Source(Path("pkg/app.py"), "pkg/app.py", "name = 'café ☕'\n", None)


def test_read_relpath_uses_base_or_absolute_path(tmp_path, monkeypatch):
    project = tmp_path / "project"
    path = write(project / "pkg" / "app.py")
    monkeypatch.chdir(tmp_path)

    assert read_source(path).relpath == "project/pkg/app.py"
    assert read_source(path, base=project).relpath == "pkg/app.py"
    assert read_source(path, base=project / "pkg" / "other").relpath == "../app.py"
    monkeypatch.chdir(project / "pkg")
    assert read_source(path).relpath == "app.py"
    monkeypatch.chdir(write(tmp_path / "elsewhere" / "x.py").parent)
    assert read_source(path).relpath == "../project/pkg/app.py"


def test_read_utf8_with_bom_drops_bom(tmp_path):
    path = write(tmp_path / "bom.py", b"\xef\xbb\xbfx = '\xc3\xa9'\n")

    source = read_source(path)

    assert source.error is None
    assert source.text == "x = 'é'\n"


def test_read_latin1_with_coding_cookie(tmp_path):
    data = "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1")
    assert b"\xe9" in data
    path = write(tmp_path / "legacy.py", data)

    source = read_source(path)

    assert source.error is None
    assert source.text == "# -*- coding: latin-1 -*-\nx = 'é'\n"


def test_read_cookie_on_second_line(tmp_path):
    data = "#!/usr/bin/env python\n# coding: cp1252\nx = '€'\n".encode("cp1252")
    path = write(tmp_path / "legacy.py", data)

    assert read_source(path).text == "#!/usr/bin/env python\n# coding: cp1252\nx = '€'\n"


def test_read_keeps_crlf_and_form_feed(tmp_path):
    path = write(tmp_path / "win.py", b"a = 1\r\n\x0c\r\nb = 2\r\n")

    source = read_source(path)

    assert source.text == "a = 1\r\n\x0c\r\nb = 2\r\n"


def test_read_invalid_utf8_reports_line_and_column(tmp_path):
    path = write(tmp_path / "bad.py", b"a = 1\r\nb = '\xc3\xa9'\nc = \xff\n")

    source = read_source(path)

    assert source.text is None
    assert source.error == "cannot decode as utf-8: invalid byte 0xff"
    assert (source.error_line, source.error_col) == (3, 5)


def test_read_invalid_byte_column_counts_characters(tmp_path):
    path = write(tmp_path / "bad.py", "x = 1\n# ☕é ".encode() + b"\x80\n")

    source = read_source(path)

    assert (source.error_line, source.error_col) == (2, 6)
    assert "0x80" in source.error


def test_read_invalid_byte_after_bom_does_not_count_the_bom(tmp_path):
    path = write(tmp_path / "bad.py", b"\xef\xbb\xbfab\xff\n")

    source = read_source(path)

    assert (source.error_line, source.error_col) == (1, 3)


def test_read_invalid_byte_on_first_line_without_cookie(tmp_path):
    path = write(tmp_path / "bad.py", b"x = '\xe9'\n")

    source = read_source(path)

    assert source.text is None
    assert source.error == "cannot decode as utf-8: invalid byte 0xe9"
    assert (source.error_line, source.error_col) == (1, 6)


def test_read_nul_byte_is_binary(tmp_path):
    path = write(tmp_path / "blob.py", b"x = 1\n" * 3000 + b"\x00")

    source = read_source(path)

    assert source.text is None
    assert source.error == "binary file, not Python source"
    assert (source.error_line, source.error_col) == (1, 1)


def test_read_empty_file(tmp_path):
    path = write(tmp_path / "empty.py", b"")

    source = read_source(path)

    assert source.text == ""
    assert source.error is None


def test_read_unknown_cookie_encoding(tmp_path):
    path = write(tmp_path / "odd.py", b"# coding: klingon\nx = 1\n")

    source = read_source(path)

    assert source.text is None
    assert source.error == "unknown encoding: klingon"
    assert source.error_line == 1


def test_read_unknown_cookie_encoding_on_second_line(tmp_path):
    path = write(tmp_path / "odd.py", b"#!/usr/bin/python\n# vim: set fileencoding=klingon :\n")

    source = read_source(path)

    assert source.error == "unknown encoding: klingon"
    assert source.error_line == 2


def test_read_missing_file_does_not_raise(tmp_path):
    source = read_source(tmp_path / "gone.py")

    assert source.text is None
    assert source.error is not None
    assert source.error.startswith("cannot read: ")
    assert "no such file" in source.error.lower()


def test_read_unreadable_file(tmp_path, request):
    path = write(tmp_path / "secret.py")
    make_unreadable(path, request)

    source = read_source(path)

    assert source.text is None
    assert source.error is not None
    assert source.error.startswith("cannot read: ")
    assert "denied" in source.error.lower()


def test_read_bom_with_conflicting_cookie(tmp_path):
    path = write(tmp_path / "odd.py", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")

    source = read_source(path)

    assert source.text is None
    assert source.error == "UTF-8 byte order mark conflicts with coding cookie latin-1"
    assert source.error_line == 1


# ---------------------------------------------------------------- flake8 lines


def test_decode_lines_joins_and_strips_bom():
    assert decode_lines(["\ufeffa = 1\r\n", "\x0c\n", "b = 2"]) == "a = 1\r\n\x0c\nb = 2"
    assert decode_lines([]) == ""
    assert decode_lines(["x\ufeff\n"]) == "x\ufeff\n"


class _Silent(Exception):
    def __init__(self, detail: int):  # its own __init__: Python passes it on unwrapped
        super().__init__()
        self.detail = detail


def _silent_codec(name: str):
    """A codec that fails with an exception without a message (codecs are looked up by
    name, so a test can register its own; it decodes nothing)."""
    import codecs

    def fail(*args, **kwargs):
        raise _Silent(1)

    if name == "celerylint_test_silent":
        return codecs.CodecInfo(fail, fail, name=name)
    return None


def test_a_misbehaving_codec_reads_the_same_through_the_engine(tmp_path):
    """The engine scans a file's bytes, then decodes those bytes as read_source does: one
    decoding, one message."""
    import codecs

    from celerylint.engine import extract_file

    path = write(tmp_path / "odd.py", b"# coding: celerylint_test_silent\nx = 1\n")
    codecs.register(_silent_codec)
    try:
        source = read_source(path)
        extracted = extract_file(str(path), str(tmp_path), ["."], need_full=True)
    finally:
        codecs.unregister(_silent_codec)
    assert source.error == "cannot decode: _Silent"
    assert extracted.facts.error == source.error
