from __future__ import annotations

import json
from pathlib import Path

import pytest

from celerylint.config import (
    CACHE_DIR_ENV,
    DEFAULT_EXCLUDE,
    NEWEST_KNOWN,
    Config,
    ConfigError,
    OptionSpec,
    ProjectRoot,
    RootFinder,
    detect_celery_version,
    find_root,
    load_config,
    project_at,
)

SPECS = [
    OptionSpec("min-beat-interval", float, 1.0),
    OptionSpec("max-args", int, 5),
    OptionSpec("strict-mode", bool, False),
    OptionSpec("slow-markers", list, ["sleep"]),
    OptionSpec("queue-name", str, "celery"),
]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(tmp_path: Path, body: str) -> Path:
    return write(tmp_path / "pyproject.toml", "[tool.celerylint]\n" + body)


def config_error(tmp_path: Path, body: str, **kwargs) -> str:
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, option_specs=SPECS, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run from tmp_path so messages name files relative to it."""
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------- defaults, finding


def test_defaults_without_any_pyproject(tmp_path):
    if find_root(tmp_path).found:
        pytest.skip("a pyproject.toml or a work tree lies above the temporary directory")
    config = load_config(tmp_path, option_specs=SPECS, environ={})
    assert config.root == tmp_path
    assert config.config_file is None
    assert config.marker == "none"
    assert config.cache_dir is None  # no project found: no cache unless one is named
    assert config.respect_gitignore is True and config.force_exclude is False
    assert config.select == ["CEL"]
    assert config.ignore == [] and config.extend_select == [] and config.extend_ignore == []
    assert config.per_file_ignores == {}
    assert config.exclude == DEFAULT_EXCLUDE
    assert config.extend_exclude == []
    assert config.target_version == NEWEST_KNOWN
    assert config.target_version_source == "default"
    assert config.src == ["."]
    assert config.options == {
        "min-beat-interval": 1.0,
        "max-args": 5,
        "strict-mode": False,
        "slow-markers": ["sleep"],
        "queue-name": "celery",
    }


def test_option_default_list_is_not_shared(tmp_path):
    write(tmp_path / "pyproject.toml", "")
    config = load_config(tmp_path, option_specs=SPECS)
    config.options["slow-markers"].append("x")
    assert SPECS[3].default == ["sleep"]


def test_src_default_includes_src_dir(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    (tmp_path / "src").mkdir()
    config = load_config(tmp_path)
    assert config.src == [".", "src"]


def test_nearest_pyproject_with_the_table_wins_over_a_nearer_one_without(tmp_path):
    outer = pyproject(tmp_path, "select = ['CEL1']\n")
    inner = write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'inner'\n")
    deep = tmp_path / "pkg" / "a" / "b"
    deep.mkdir(parents=True)

    # DESIGN section 4: the nearest pyproject.toml with [tool.celerylint], else any.
    assert find_root(deep) == ProjectRoot(tmp_path, outer, "config")
    assert find_root(tmp_path / "pkg" / "a" / "b" / "missing.py") == find_root(deep)
    config = load_config(deep)
    assert (config.root, config.config_file, config.select) == (tmp_path, outer, ["CEL1"])

    outer.write_text("[project]\nname = 'outer'\n", encoding="utf-8")
    assert find_root(deep) == ProjectRoot(tmp_path / "pkg", inner, "pyproject")
    assert load_config(deep).select == ["CEL"]

    write(tmp_path / "pkg" / "a" / "pyproject.toml", "[tool.celerylint]\nignore = ['CEL2']\n")
    assert find_root(deep).directory == tmp_path / "pkg" / "a"
    assert load_config(deep / "x.py").ignore == ["CEL2"]


def test_a_file_is_found_from_its_directory(tmp_path):
    pyproject(tmp_path, "")
    write(tmp_path / "pkg" / "tasks.py", "x = 1\n")
    assert find_root(tmp_path / "pkg" / "tasks.py").directory == tmp_path
    assert find_root(Path("pkg/tasks.py")).directory == tmp_path  # relative: from the cwd


def test_the_current_directory_plays_no_part(tmp_path, monkeypatch):
    pyproject(tmp_path / "proj", "")
    other = tmp_path / "elsewhere"
    pyproject(other, "select = ['CEL1']\n")
    for cwd in (tmp_path, other, tmp_path / "proj"):
        monkeypatch.chdir(cwd)
        assert find_root(tmp_path / "proj" / "app.py").directory == tmp_path / "proj"


def test_the_search_stops_at_the_top_of_a_work_tree(tmp_path):
    pyproject(tmp_path, "select = ['CEL1']\n")  # above the repository: not its project
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pkg").mkdir()
    assert find_root(repo / "pkg") == ProjectRoot(repo, None, "vcs")
    # a worktree or submodule has a .git file
    (repo / ".git").rmdir()
    write(repo / ".git", "gitdir: /somewhere/else\n")
    assert find_root(repo / "pkg" / "a.py") == ProjectRoot(repo, None, "vcs")
    # a pyproject.toml inside the work tree is the root, with or without the table
    inner = write(repo / "pkg" / "pyproject.toml", "")
    assert find_root(repo / "pkg" / "a.py") == ProjectRoot(repo / "pkg", inner, "pyproject")


def test_no_project_found_means_the_path_itself(tmp_path):
    if find_root(tmp_path).found:
        pytest.skip("a pyproject.toml or a work tree lies above the temporary directory")
    (tmp_path / "loose").mkdir()
    assert find_root(tmp_path / "loose") == ProjectRoot(tmp_path / "loose")
    assert find_root(tmp_path / "loose" / "a.py") == ProjectRoot(tmp_path / "loose")


def test_the_search_never_climbs_into_the_home_directory(tmp_path, monkeypatch):
    home = tmp_path / "home"
    pyproject(home, "select = ['CEL1']\n")
    (home / ".git").mkdir()  # a dotfiles repository
    (home / "scratch").mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert find_root(home / "scratch" / "a.py") == ProjectRoot(home / "scratch")
    # checking the home directory itself is asking for it
    assert find_root(home).marker == "config"


def test_symlinks_in_the_path_are_not_resolved(tmp_path):
    pyproject(tmp_path / "proj", "")
    pyproject(tmp_path / "elsewhere", "")
    (tmp_path / "elsewhere" / "shared").mkdir()
    (tmp_path / "proj" / "shared").symlink_to(tmp_path / "elsewhere" / "shared")
    found = find_root(tmp_path / "proj" / "shared" / "tasks.py")
    assert found.directory == tmp_path / "proj"
    assert load_config(tmp_path / "proj" / "shared", environ={}).cache_dir == (
        tmp_path / "proj" / ".celerylint_cache")


def test_broken_toml_on_the_way_up_is_an_error(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.celerylint\n")
    (tmp_path / "pkg").mkdir()
    with pytest.raises(ConfigError, match=r"pyproject\.toml: invalid TOML"):
        find_root(tmp_path / "pkg")


def test_starts_project_in_a_walk():
    finder = RootFinder()
    assert finder.starts_project("/nowhere", {".git", "a.py"}, "config")
    assert finder.starts_project("/nowhere", {".hg"}, "pyproject")
    assert not finder.starts_project("/nowhere", {"a.py", "setup.py"}, "pyproject")


def test_starts_project_follows_the_table(tmp_path):
    finder = RootFinder()
    write(tmp_path / "plain" / "pyproject.toml", "[project]\nname = 'x'\n")
    pyproject(tmp_path / "own", "")
    names = {"pyproject.toml"}
    assert not finder.starts_project(str(tmp_path / "plain"), names, "config")
    assert finder.starts_project(str(tmp_path / "own"), names, "config")
    for marker in ("pyproject", "vcs", "pinned", "none"):
        assert finder.starts_project(str(tmp_path / "plain"), names, marker)


def test_project_at_pins_a_directory(tmp_path):
    pyproject(tmp_path, "")
    (tmp_path / "fixture").mkdir()
    assert project_at(tmp_path / "fixture") == ProjectRoot(tmp_path / "fixture", None, "pinned")
    assert project_at(tmp_path).marker == "config"
    config = load_config(tmp_path / "fixture", project=project_at(tmp_path / "fixture"), environ={})
    assert config.root == tmp_path / "fixture" and config.config_file is None
    assert config.cache_dir == tmp_path / "fixture" / ".celerylint_cache"


def test_explicit_config_path(tmp_path):
    pyproject(tmp_path, "select = ['CEL1']\n")
    custom = write(tmp_path / "conf" / "lint.toml", "[tool.celerylint]\nignore = ['CEL104']\n")
    config = load_config(tmp_path, config_path=custom)
    assert config.config_file == custom
    assert config.root == tmp_path  # the root still comes from the files
    assert config.select == ["CEL"]
    assert config.ignore == ["CEL104"]


def test_missing_config_path(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_config(tmp_path, config_path=tmp_path / "nope.toml")


def test_config_path_that_is_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        load_config(tmp_path, config_path=tmp_path)


# --------------------------------------------------------------------- parsing


def test_every_key_parsed(tmp_path):
    pyproject(
        tmp_path,
        """
select = ["CEL1", "CEL2"]
ignore = ["CEL105"]
extend-select = ["CEL3"]
extend-ignore = ["CEL301"]
exclude = ["generated"]
extend-exclude = ["legacy/*"]
target-version = "4.4"
src = ["src", "lib"]
min-beat-interval = 5
max-args = 3
strict-mode = true
slow-markers = ["requests.get"]
queue-name = "slow"

[tool.celerylint.per-file-ignores]
"tests/*" = ["CEL101", "CEL2"]
"migrations" = []
""",
    )
    config = load_config(tmp_path, option_specs=SPECS)
    assert config.select == ["CEL1", "CEL2"]
    assert config.ignore == ["CEL105"]
    assert config.extend_select == ["CEL3"]
    assert config.extend_ignore == ["CEL301"]
    assert config.exclude == ["generated"]
    assert config.extend_exclude == ["legacy/*"]
    assert config.target_version == (4, 4)
    assert config.target_version_source == "config"
    assert config.src == ["src", "lib"]
    assert config.per_file_ignores == {"tests/*": ["CEL101", "CEL2"], "migrations": []}
    assert config.options == {
        "min-beat-interval": 5.0,
        "max-args": 3,
        "strict-mode": True,
        "slow-markers": ["requests.get"],
        "queue-name": "slow",
    }
    assert isinstance(config.options["min-beat-interval"], float)


def test_target_version_with_patch(tmp_path):
    pyproject(tmp_path, 'target-version = "5.2.7"\n')
    assert load_config(tmp_path).target_version == (5, 2)


def test_unknown_key_with_suggestion(tmp_path):
    message = config_error(tmp_path, "min-beat-intervall = 5\n")
    assert message == (
        "pyproject.toml: [tool.celerylint] unknown key 'min-beat-intervall', "
        "did you mean 'min-beat-interval'?"
    )


def test_unknown_snake_case_key_suggests_kebab_case(tmp_path):
    message = config_error(tmp_path, "per_file_ignores = {}\n")
    assert message.endswith("unknown key 'per_file_ignores', did you mean 'per-file-ignores'?")


def test_unknown_key_without_close_match(tmp_path):
    message = config_error(tmp_path, "zzzz = 1\n")
    assert message.endswith("[tool.celerylint] unknown key 'zzzz'")


def test_option_names_are_only_known_when_specs_are_given(tmp_path):
    pyproject(tmp_path, "max-args = 3\n")
    with pytest.raises(ConfigError, match="unknown key 'max-args'"):
        load_config(tmp_path)


def test_error_names_the_file_relative_to_cwd(tmp_path, monkeypatch):
    (tmp_path / "proj").mkdir()
    message = config_error(tmp_path / "proj", "bogus = 1\n")
    assert message.startswith("proj/pyproject.toml: [tool.celerylint] unknown key 'bogus'")
    monkeypatch.chdir(tmp_path / "proj")
    message = config_error(tmp_path / "proj", "bogus = 1\n")
    assert message.startswith("pyproject.toml: [tool.celerylint] unknown key 'bogus'")


@pytest.mark.parametrize(
    "body, expected",
    [
        ('select = "CEL1"\n', "'select' must be a list of strings, got 'CEL1'"),
        ("ignore = [104]\n", "'ignore' must be a list of strings, got [104]"),
        ("extend-select = 1\n", "'extend-select' must be a list of strings"),
        ("extend-ignore = [true]\n", "'extend-ignore' must be a list of strings"),
        ('exclude = "build"\n', "'exclude' must be a list of strings, got 'build'"),
        ("extend-exclude = [1]\n", "'extend-exclude' must be a list of strings"),
        ('src = "src"\n', "'src' must be a list of strings, got 'src'"),
        ('per-file-ignores = ["tests"]\n', "'per-file-ignores' must be a table"),
        (
            'per-file-ignores = {"tests/*" = "CEL1"}\n',
            "'per-file-ignores' entry 'tests/*' must be a list of strings, got 'CEL1'",
        ),
        (
            "target-version = 5.3\n",
            "'target-version' must be a version string like \"5.3\", got 5.3",
        ),
        ('target-version = "5"\n', "'target-version' must be a version string"),
        ('target-version = "five.three"\n', "'target-version' must be a version string"),
        ('min-beat-interval = "abc"\n', "'min-beat-interval' must be a number, got 'abc'"),
        ("min-beat-interval = true\n", "'min-beat-interval' must be a number, got True"),
        ("min-beat-interval = nan\n", "'min-beat-interval' must be a number"),
        ("max-args = 2.5\n", "'max-args' must be an integer, got 2.5"),
        ("max-args = false\n", "'max-args' must be an integer, got False"),
        ('strict-mode = "yes"\n', "'strict-mode' must be true or false, got 'yes'"),
        ("strict-mode = 1\n", "'strict-mode' must be true or false, got 1"),
        ('slow-markers = "sleep"\n', "'slow-markers' must be a list of strings, got 'sleep'"),
        ("slow-markers = [1, 2]\n", "'slow-markers' must be a list of strings"),
        ("queue-name = 3\n", "'queue-name' must be a string, got 3"),
    ],
)
def test_wrong_types(tmp_path, body, expected):
    message = config_error(tmp_path, body)
    assert "[tool.celerylint] " + expected in message


@pytest.mark.parametrize(
    "body, bad",
    [
        ('select = ["cel1"]\n', "'select' has an invalid code 'cel1'"),
        ('ignore = ["CEL1041"]\n', "'ignore' has an invalid code 'CEL1041'"),
        ('extend-select = ["CELERY"]\n', "'extend-select' has an invalid code 'CELERY'"),
        ('extend-ignore = [""]\n', "'extend-ignore' has an invalid code ''"),
        (
            'per-file-ignores = {"a.py" = ["CEL 1"]}\n',
            "'per-file-ignores' entry 'a.py' has an invalid code 'CEL 1'",
        ),
    ],
)
def test_invalid_codes(tmp_path, body, bad):
    assert bad in config_error(tmp_path, body)


def test_celerylint_not_a_table(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool]\ncelerylint = 5\n")
    with pytest.raises(
        ConfigError, match=r"pyproject\.toml: \[tool\.celerylint\] must be a table, got 5"
    ):
        load_config(tmp_path)


def test_bad_toml(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.celerylint]\nselect = [\"CEL1\"]\nignore = = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert message.startswith("pyproject.toml: invalid TOML: ")
    assert "line 3" in message
    assert "\n" not in message


def test_non_utf8_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.celerylint]\n# caf\xe9\n")
    with pytest.raises(
        ConfigError, match=r"pyproject\.toml: not valid UTF-8 \(byte 0xe9 on line 2\)"
    ):
        load_config(tmp_path)


def test_utf8_bom_is_accepted(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"\xef\xbb\xbf[tool.celerylint]\nselect = ['CEL2']\n")
    assert load_config(tmp_path).select == ["CEL2"]


def test_bad_toml_in_a_parent_pyproject_is_reported(tmp_path):
    write(tmp_path / "pyproject.toml", "this is = = not toml\n")
    (tmp_path / "pkg").mkdir()
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(tmp_path / "pkg")


# --------------------------------------------------------------------- overrides


def test_overrides_replace_and_extend(tmp_path):
    pyproject(
        tmp_path,
        'select = ["CEL1"]\nignore = ["CEL105"]\nextend-select = ["CEL2"]\nextend-ignore = '
        '["CEL201"]\n',
    )
    config = load_config(
        tmp_path,
        overrides={
            "select": "CEL3, CEL4",
            "ignore": ["CEL301"],
            "extend-select": ["CEL5"],
            "extend-ignore": "CEL202",
        },
    )
    assert config.select == ["CEL3", "CEL4"]
    assert config.ignore == ["CEL301"]
    assert config.extend_select == ["CEL2", "CEL5"]
    assert config.extend_ignore == ["CEL201", "CEL202"]


def test_override_with_bad_code(tmp_path):
    with pytest.raises(ConfigError, match=r"^--select has an invalid code 'cel1'"):
        load_config(tmp_path, overrides={"select": "cel1"})


def test_override_with_bad_target_version(tmp_path):
    with pytest.raises(ConfigError, match=r"^--target-version must be a version string"):
        load_config(tmp_path, overrides={"target-version": "latest"})


# --------------------------------------------------------------------- target version


def test_target_version_resolution_order(tmp_path):
    write(tmp_path / "requirements.txt", "celery==5.2.7\n")

    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    config = load_config(tmp_path)
    assert (config.target_version, config.target_version_source) == ((5, 2), "requirements.txt")

    pyproject(tmp_path, 'target-version = "4.4"\n')
    config = load_config(tmp_path)
    assert (config.target_version, config.target_version_source) == ((4, 4), "config")

    config = load_config(tmp_path, overrides={"target-version": "5.1"})
    assert (config.target_version, config.target_version_source) == ((5, 1), "cli")

    (tmp_path / "requirements.txt").unlink()
    write(tmp_path / "pyproject.toml", "")
    config = load_config(tmp_path)
    assert (config.target_version, config.target_version_source) == (NEWEST_KNOWN, "default")


def test_detection_is_relative_to_the_config_root(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\ndependencies = ['celery>=5.3']\n")
    (tmp_path / "pkg").mkdir()
    config = load_config(tmp_path / "pkg")
    assert (config.target_version, config.target_version_source) == ((5, 3), "pyproject.toml")


# --------------------------------------------------------------------- detection


def test_detect_nothing(tmp_path):
    write(tmp_path / "requirements.txt", "django==4.2\n")
    assert detect_celery_version(tmp_path) is None


def test_detect_poetry_lock(tmp_path):
    write(
        tmp_path / "poetry.lock",
        '[[package]]\nname = "kombu"\nversion = "5.3.1"\n\n'
        '[[package]]\nname = "Celery"\nversion = "5.3.4"\n',
    )
    write(tmp_path / "requirements.txt", "celery==4.4.7\n")
    assert detect_celery_version(tmp_path) == ((5, 3), "poetry.lock")


@pytest.mark.parametrize("name", ["uv.lock", "pdm.lock"])
def test_detect_other_toml_locks(tmp_path, name):
    write(tmp_path / name, '[[package]]\nname = "celery"\nversion = "5.4.0"\n')
    assert detect_celery_version(tmp_path) == ((5, 4), name)


def test_detect_pipfile_lock(tmp_path):
    data = {"default": {"celery": {"version": "==5.3.4"}, "kombu": {"version": "==5.3.1"}}}
    write(tmp_path / "Pipfile.lock", json.dumps(data))
    write(tmp_path / "requirements.txt", "celery==4.4.7\n")
    assert detect_celery_version(tmp_path) == ((5, 3), "Pipfile.lock")


def test_detect_requirements_with_extras_markers_and_comments(tmp_path):
    write(
        tmp_path / "requirements.txt",
        "# celery==3.1 in a comment\n"
        "-r base.txt\n"
        "celery-redbeat==2.0.0\n"
        "django==4.2  # celery==3.1\n"
        "celery[redis,sqs] >= 5.2, <6 ; python_version >= '3.8'  # pinned\n",
    )
    assert detect_celery_version(tmp_path) == ((5, 2), "requirements.txt")


def test_detect_requirements_pip_compile_hashes(tmp_path):
    write(
        tmp_path / "requirements.txt",
        "celery==5.3.6 \\\n    "
        "--hash=sha256:870cc71d737c0200c397290d730344cc991d13a057534353d124c9\n",
    )
    assert detect_celery_version(tmp_path) == ((5, 3), "requirements.txt")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("celery~=4.4.7", (4, 4)),
        ("CELERY==5.*", (5, 0)),
        ("celery>4.3", (4, 3)),
        ("celery>=4.4,>=5.1", (5, 1)),
        ("celery==5.3.0rc1", (5, 3)),
        ("celery<6", None),
        ("celery", None),
        ("celery @ https://example.com/celery-5.3.4.tar.gz", None),
    ],
)
def test_detect_requirement_specifiers(tmp_path, line, expected):
    write(tmp_path / "requirements.txt", line + "\n")
    result = detect_celery_version(tmp_path)
    assert (result[0] if result else None) == expected


def test_detect_takes_the_lowest_of_several_declarations_in_one_file(tmp_path):
    write(
        tmp_path / "requirements.txt",
        "celery>=5.2 ; python_version >= '3.8'\ncelery>=4.4 ; python_version < '3.8'\n",
    )
    assert detect_celery_version(tmp_path) == ((4, 4), "requirements.txt")


def test_detect_requirements_directory(tmp_path):
    write(tmp_path / "requirements" / "base.txt", "celery[redis]>=5.1\n")
    assert detect_celery_version(tmp_path) == ((5, 1), "requirements/base.txt")


def test_detect_prefers_requirements_txt_over_other_requirement_files(tmp_path):
    write(tmp_path / "requirements-dev.txt", "celery>=4.0\n")
    write(tmp_path / "requirements.txt", "celery>=5.2\n")
    assert detect_celery_version(tmp_path) == ((5, 2), "requirements.txt")


def test_detect_skips_requirements_without_lower_bound(tmp_path):
    write(tmp_path / "requirements.txt", "celery<6\n")
    write(tmp_path / "setup.cfg", "[options]\ninstall_requires =\n    celery>=4.4\n")
    assert detect_celery_version(tmp_path) == ((4, 4), "setup.cfg")


def test_detect_pyproject_pep621(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        "[project]\nname = 'x'\n"
        "dependencies = ['django>=4', 'celery[redis]>=5.3.1; python_version>\"3.8\"']\n",
    )
    assert detect_celery_version(tmp_path) == ((5, 3), "pyproject.toml")


def test_detect_pyproject_optional_dependencies(tmp_path):
    write(
        tmp_path / "pyproject.toml", "[project.optional-dependencies]\nworker = ['celery~=5.2.0']\n"
    )
    assert detect_celery_version(tmp_path) == ((5, 2), "pyproject.toml")


@pytest.mark.parametrize(
    "constraint, expected",
    [
        ('"^5.3"', (5, 3)),
        ('{version = "^5.1", extras = ["redis"]}', (5, 1)),
        ('"~4.4.7"', (4, 4)),
        ('"5.2.7"', (5, 2)),
        ('">=4.4,<6"', (4, 4)),
        ('"^4.4 || ^5.0"', (4, 4)),
        ('"*"', None),
    ],
)
def test_detect_pyproject_poetry(tmp_path, constraint, expected):
    write(
        tmp_path / "pyproject.toml",
        f'[tool.poetry.dependencies]\npython = "^3.9"\ncelery = {constraint}\n',
    )
    result = detect_celery_version(tmp_path)
    assert (result[0] if result else None) == expected


def test_detect_poetry_group(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.poetry.group.worker.dependencies]\ncelery = "^5.2"\n')
    assert detect_celery_version(tmp_path) == ((5, 2), "pyproject.toml")


def test_detect_setup_cfg(tmp_path):
    write(
        tmp_path / "setup.cfg",
        "[metadata]\nname = x\n\n[options]\ninstall_requires =\n"
        "    requests\n    celery[redis]>=4.4.7,<6; python_version >= '3.7'\n",
    )
    assert detect_celery_version(tmp_path) == ((4, 4), "setup.cfg")


def test_detect_setup_cfg_extras(tmp_path):
    write(tmp_path / "setup.cfg", "[options.extras_require]\nworker =\n    celery==5.0.5\n")
    assert detect_celery_version(tmp_path) == ((5, 0), "setup.cfg")


def test_detect_never_reads_setup_py(tmp_path):
    write(tmp_path / "setup.py", "setup(install_requires=['celery==5.3.4'])\n")
    assert detect_celery_version(tmp_path) is None


def test_detect_skips_broken_files(tmp_path):
    write(tmp_path / "poetry.lock", "[[package]\nbroken")
    write(tmp_path / "Pipfile.lock", "{not json")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "a.txt").mkdir()  # a directory named like a file
    write(tmp_path / "pyproject.toml", "[project\n")
    write(tmp_path / "setup.cfg", "no section header\ncelery==5.3\n")
    (tmp_path / "uv.lock").write_bytes(b"\xff\xfe")
    write(tmp_path / "pdm.lock", "package = 3\n")
    assert detect_celery_version(tmp_path) is None
    write(tmp_path / "requirements.txt", "celery==5.1.2\n")
    assert detect_celery_version(tmp_path) == ((5, 1), "requirements.txt")


# --------------------------------------------------------------------- selection


def make_config(**kwargs) -> Config:
    return Config(root=Path("."), **kwargs)


def test_default_selects_every_cel_code():
    config = make_config()
    assert config.is_selected("CEL104")
    assert not config.is_selected("E501")


def test_select_prefix_selects_group_only():
    config = make_config(select=["CEL1"])
    assert config.is_selected("CEL104")
    assert not config.is_selected("CEL201")


def test_longer_ignore_overrides_shorter_select():
    config = make_config(select=["CEL1"], ignore=["CEL104"])
    assert not config.is_selected("CEL104")
    assert config.is_selected("CEL105")


def test_longer_select_overrides_shorter_ignore():
    config = make_config(select=["CEL104"], ignore=["CEL1"])
    assert config.is_selected("CEL104")
    assert not config.is_selected("CEL105")


def test_equal_length_goes_to_ignore():
    config = make_config(select=["CEL1"], extend_select=["CEL104"], ignore=["CEL104"])
    assert not config.is_selected("CEL104")


def test_extend_select_and_extend_ignore():
    config = make_config(select=["CEL1"], extend_select=["CEL2"], extend_ignore=["CEL201"])
    assert config.is_selected("CEL202")
    assert not config.is_selected("CEL201")
    assert not config.is_selected("CEL301")


def test_empty_select_selects_nothing():
    assert not make_config(select=[]).is_selected("CEL104")


# --------------------------------------------------------------------- per-file ignores


def test_per_file_ignores_matching():
    config = make_config(
        per_file_ignores={
            "tests/*": ["CEL1"],
            "docs/": ["CEL2"],
            "test_*.py": ["CEL3"],
            "migrations": ["CEL4"],
            "app/tasks.py": ["CEL105"],
        }
    )
    assert config.is_ignored_for_path("CEL104", "tests/unit/test_a.py")
    assert not config.is_ignored_for_path("CEL201", "tests/unit/test_a.py")
    assert not config.is_ignored_for_path("CEL104", "app/tests_helper.py")
    assert config.is_ignored_for_path("CEL201", "docs/conf.py")
    assert config.is_ignored_for_path("CEL301", "pkg/test_b.py")
    assert not config.is_ignored_for_path("CEL301", "pkg/b.py")
    assert config.is_ignored_for_path("CEL401", "app/migrations/0001.py")
    assert config.is_ignored_for_path("CEL105", "./app/tasks.py")
    assert config.is_ignored_for_path("CEL105", "app\\tasks.py")
    assert not config.is_ignored_for_path("CEL104", "app/tasks.py")
    assert not config.is_ignored_for_path("CEL105", "other/app/tasks.py")


def test_per_file_ignores_from_config(tmp_path):
    pyproject(tmp_path, '[tool.celerylint.per-file-ignores]\n"tests/" = ["CEL101"]\n')
    config = load_config(tmp_path)
    assert config.is_ignored_for_path("CEL101", "tests/test_x.py")
    assert not config.is_ignored_for_path("CEL101", "app/x.py")


# --------------------------------------------------------------------- hostile values


@pytest.mark.parametrize("value", [
    '"5.3\\n"', '"5.3 "', '" 5.3"', '"\u0665.\u0663"', '"5.\u0663"', '"\uff15.3"',
    '"' + "9" * 5000 + '.0"', '"5.' + "3" * 5000 + '"', '"5.3.1.2"', '""',
])
def test_target_version_format(tmp_path, value):
    message = config_error(tmp_path, f"target-version = {value}\n")
    assert "'target-version' must be a version string" in message
    assert len(message) < 300


@pytest.mark.parametrize("value", ["5.3\n", "\u0665.\u0663", "9" * 5000 + ".0"])
def test_target_version_format_on_the_command_line(tmp_path, value):
    with pytest.raises(ConfigError, match=r"^--target-version must be a version string"):
        load_config(tmp_path, overrides={"target-version": value})


def test_target_version_numbers_are_taken_as_written(tmp_path):
    pyproject(tmp_path, 'target-version = "05.03"\n')
    assert load_config(tmp_path).target_version == (5, 3)


@pytest.mark.parametrize("value", ["99.0", "2.0", "5.10", "3.0", "6.0.1"])
def test_a_target_version_needs_the_tables_of_its_release(tmp_path, value):
    """Only releases whose setting tables ship with the linter (3.1 ... 5.7) can be targets."""
    message = config_error(tmp_path, f'target-version = "{value}"\n')
    assert message.startswith(
        f"pyproject.toml: [tool.celerylint] 'target-version': no tables for "
        f"Celery {'.'.join(value.split('.')[:2])} (known releases: 3.1, 4.0, "
    )
    assert message.endswith(", 5.7)")
    pyproject(tmp_path, "")
    with pytest.raises(ConfigError, match=r"^--target-version: no tables for Celery"):
        load_config(tmp_path, overrides={"target-version": value})


@pytest.mark.parametrize("value", ["3.1", "4.4", "5.3.6", "5.7"])
def test_every_release_with_tables_is_a_target(tmp_path, value):
    pyproject(tmp_path, f'target-version = "{value}"\n')
    assert load_config(tmp_path).target_version == tuple(int(p) for p in value.split(".")[:2])


def test_a_number_with_thousands_of_digits_is_a_one_line_error(tmp_path):
    message = config_error(tmp_path, "max-args = " + "1" * 5000 + "\n")
    assert message == "pyproject.toml: invalid TOML: a number has too many digits"


def test_deeply_nested_arrays_are_a_one_line_error(tmp_path):
    message = config_error(tmp_path, "select = " + "[" * 5000 + "]" * 5000 + "\n")
    assert message == "pyproject.toml: invalid TOML: arrays or tables nested too deeply"


def test_moderately_nested_values_are_a_type_error(tmp_path):
    message = config_error(tmp_path, "select = " + "[" * 90 + "]" * 90 + "\n")
    assert "'select' must be a list of strings, got [[[[" in message
    assert len(message) < 200


RANGED = [
    OptionSpec("interval", float, 10.0, above=0),
    OptionSpec("count", int, 5, at_least=1),
]


@pytest.mark.parametrize("body, expected", [
    ("interval = -5\n", "'interval' must be > 0, got -5"),
    ("interval = 0\n", "'interval' must be > 0, got 0"),
    ("interval = -0.0\n", "'interval' must be > 0, got -0.0"),
    ("interval = 1" + "0" * 400 + "\n", "'interval' must be a number, got 1000"),
    ("interval = inf\n", "'interval' must be a number, got inf"),
    ("count = 0\n", "'count' must be >= 1, got 0"),
    ("count = -3\n", "'count' must be >= 1, got -3"),
])
def test_option_ranges(tmp_path, body, expected):
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, option_specs=RANGED)
    assert "[tool.celerylint] " + expected in str(info.value)


def test_option_ranges_accept_their_bounds(tmp_path):
    pyproject(tmp_path, "interval = 0.001\ncount = 1\n")
    assert load_config(tmp_path, option_specs=RANGED).options == {"interval": 0.001, "count": 1}


def test_every_rule_number_option_declares_its_range():
    from celerylint.rule import option_specs

    numbers = [spec for spec in option_specs() if spec.type in (int, float)]
    assert numbers
    assert [spec.name for spec in numbers if not spec.range_text()] == []
    assert {spec.name: spec.range_text() for spec in numbers}["min-beat-interval"] == "> 0"


KNOWN = ["CEL001", "CEL101", "CEL104", "CEL201"]


@pytest.mark.parametrize("body, bad", [
    ('select = ["CEL999"]\n', "'select' has an unknown code or prefix 'CEL999'"),
    ('ignore = ["FOO"]\n', "'ignore' has an unknown code or prefix 'FOO'"),
    ('extend-select = ["CEL3"]\n', "'extend-select' has an unknown code or prefix 'CEL3'"),
    ('extend-ignore = ["CEL000"]\n', "'extend-ignore' has an unknown code or prefix 'CEL000'"),
    ('per-file-ignores = {"a.py" = ["CEL9"]}\n',
     "'per-file-ignores' entry 'a.py' has an unknown code or prefix 'CEL9'"),
])
def test_unknown_codes_in_the_file(tmp_path, body, bad):
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, known_codes=KNOWN)
    assert f"pyproject.toml: [tool.celerylint] {bad}: no rule's code starts with it" in str(
        info.value
    )


@pytest.mark.parametrize("option, value", [("select", "CEL1,CEL999"), ("ignore", "FOO"),
                                           ("extend-select", "C9"), ("extend-ignore", "CEL2,X")])
def test_unknown_codes_on_the_command_line(tmp_path, option, value):
    with pytest.raises(ConfigError, match=rf"^--{option} has an unknown code or prefix"):
        load_config(tmp_path, overrides={option: value}, known_codes=KNOWN)


def test_known_prefixes_are_accepted(tmp_path):
    pyproject(tmp_path, 'select = ["C", "CE", "CEL", "CEL1", "CEL10", "CEL104"]\n')
    assert load_config(tmp_path, known_codes=KNOWN).select == [
        "C", "CE", "CEL", "CEL1", "CEL10", "CEL104"]


def test_a_code_followed_by_a_newline_is_invalid(tmp_path):
    with pytest.raises(ConfigError, match="invalid code 'CEL1\\\\n'"):
        load_config(tmp_path, overrides={"select": ["CEL1\n"]})


# --------------------------------------------------------------------- files and cache keys


@pytest.mark.parametrize("body, expected", [
    ('respect-gitignore = "no"\n', "'respect-gitignore' must be true or false, got 'no'"),
    ("force-exclude = 1\n", "'force-exclude' must be true or false, got 1"),
    ("cache-dir = 5\n", "'cache-dir' must be a non-empty string (a directory), got 5"),
    ('cache-dir = "  "\n', "'cache-dir' must be a non-empty string"),
    ('cache-dir = "a\\u0000b"\n', "'cache-dir' is not a usable path"),
    ("baseline = true\n", "'baseline' must be a non-empty string (a file), got True"),
    ('baseline = ""\n', "'baseline' must be a non-empty string (a file)"),
])
def test_file_keys_wrong_values(tmp_path, body, expected):
    assert "[tool.celerylint] " + expected in config_error(tmp_path, body)


def test_file_keys(tmp_path):
    pyproject(
        tmp_path, 'respect-gitignore = false\nforce-exclude = true\ncache-dir = "build/lint"\n'
    )
    config = load_config(tmp_path, environ={})
    assert (config.respect_gitignore, config.force_exclude) == (False, True)
    assert config.cache_dir == tmp_path / "build" / "lint"
    assert load_config(tmp_path, overrides={"force-exclude": True}, environ={}).force_exclude


def test_cache_dir_precedence(tmp_path, monkeypatch):
    pyproject(tmp_path / "proj", 'cache-dir = "from-config"\n')
    proj = tmp_path / "proj"
    monkeypatch.chdir(tmp_path)
    assert load_config(proj, environ={}).cache_dir == proj / "from-config"
    environ = {CACHE_DIR_ENV: "from-env"}
    assert load_config(proj, environ=environ).cache_dir == tmp_path / "from-env"
    assert load_config(proj, environ=environ, overrides={"cache-dir": str(tmp_path / "cli")}
                       ).cache_dir == tmp_path / "cli"
    assert load_config(proj, environ={CACHE_DIR_ENV: ""}).cache_dir == proj / "from-config"
    pyproject(proj, "")
    assert load_config(proj, environ={}).cache_dir == proj / ".celerylint_cache"


def test_baseline_is_relative_to_the_root_or_to_the_current_directory(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    pyproject(proj, 'baseline = "ci/baseline.json"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(proj / "pkg").baseline == proj / "ci" / "baseline.json"
    given = load_config(proj, overrides={"baseline": "other.json"})
    assert given.baseline == tmp_path / "other.json"
    pyproject(proj, "")
    assert load_config(proj).baseline is None


def test_arabic_indic_digits_in_requirements_are_not_a_version(tmp_path):
    write(tmp_path / "requirements.txt", "celery>=\u0665.\u0663\n")
    assert detect_celery_version(tmp_path) is None


def test_deep_nesting_is_refused_whatever_the_recursion_limit(tmp_path):
    """Parsing Python raises the recursion limit; the same file must give the same answer
    before and after."""
    import sys

    pyproject(tmp_path, "select = " + "[" * 500 + "]" * 500 + "\n")
    previous = sys.getrecursionlimit()
    messages = []
    try:
        for limit in (previous, 200_000):
            sys.setrecursionlimit(limit)
            with pytest.raises(ConfigError) as info:
                load_config(tmp_path)
            messages.append(str(info.value))
    finally:
        sys.setrecursionlimit(previous)
    assert messages == ["pyproject.toml: invalid TOML: arrays or tables nested too deeply"] * 2


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path):
    deep = "[" * 150
    pyproject(tmp_path, f'src = ["{deep}", \'{deep}\', """\n{deep}\n"""]  # {deep}\n')
    assert load_config(tmp_path).src == [deep, deep, deep + "\n"]


@pytest.mark.parametrize("requirement,expected", [
    ("celery>=5.3.4", (5, 3)), ("celery>=3.0", (3, 1)), ("celery>=6.1", (5, 7)),
    ("celery>=5.8", (5, 7)), ("celery==4.4.7", (4, 4))])
def test_a_detected_version_is_taken_as_a_release_with_tables(tmp_path, requirement, expected):
    (tmp_path / "requirements.txt").write_text(requirement + "\n", encoding="utf-8")
    pyproject(tmp_path, "")
    config = load_config(tmp_path)
    assert (config.target_version, config.target_version_source) == (expected, "requirements.txt")
