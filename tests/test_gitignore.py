"""The .gitignore matcher against real git: generated trees and patterns, and the cases
gitignore(5) names one by one, compared with `git ls-files --others --exclude-standard`
(what git leaves in a walk) and `git check-ignore`."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import List, Sequence

import pytest

from celerylint.files import discover
from celerylint.gitignore import GitIgnore, parse, work_tree_top

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git_env(tmp_path: Path) -> dict:
    """git without the machine's configuration (a global excludes file would change its
    answers; celerylint never reads one)."""
    home = tmp_path / "git-home"
    home.mkdir(exist_ok=True)
    return dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
                HOME=str(home), XDG_CONFIG_HOME=str(home))


def git(cwd: Path, env: dict, *args: str) -> bytes:
    return subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=cwd, env=env,
                          check=True, capture_output=True).stdout


def git_init(path: Path, env: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, env, "init", "-q")
    return path


def not_ignored_by_git(top: Path, env: dict) -> List[str]:
    listed = git(top, env, "ls-files", "-z", "--others", "--exclude-standard")
    return sorted(name for name in os.fsdecode(listed).split("\0") if name.endswith(".py"))


def not_ignored_by_us(top: Path) -> List[str]:
    files, problems = discover([top], [".git"], root=top, gitignore=GitIgnore(str(top)))
    assert problems == []
    return sorted(path.relative_to(top).as_posix() for path in files)


def ignored_by_git(top: Path, env: dict, paths: Sequence[str]) -> List[str]:
    done = subprocess.run(["git", "-c", "core.quotePath=false", "check-ignore", "-z",
                           "--no-index", "--stdin"], cwd=top, env=env,
                          input=b"\0".join(os.fsencode(p) for p in paths) + b"\0",
                          capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    return sorted(name for name in os.fsdecode(done.stdout).split("\0") if name)


def ignored_by_us(top: Path, paths: Sequence[str]) -> List[str]:
    rules = GitIgnore(str(top))
    return sorted(p for p in paths if rules.ignored(str(top / p), (top / p).is_dir()))


# ------------------------------------------------------------------ generated trees

NAMES = ["a", "b", "ab", "a.py", "b.py", "build", "doc", "deep", "\u00e9.py", "[x].py",
         "a b.py", "#c.py", "!n.py", "x.txt"]
PIECES = ["a", "b", "*", "**", "?", "[ab]", "[!a]", "[a-c]", "[[:alpha:]]", ".py", "x",
          "build", "doc", "\u00e9", "\\*", "[]]", "[", "\\", " ", "\\ ", "deep", "[^b]",
          "*.py", "[:", "[[:foo:]]", "#", "!"]


def random_pattern(rng: random.Random) -> str:
    parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 4))]
    pattern = rng.choice(["", "", "/"]).join(parts)
    if rng.random() < 0.3:
        pattern = "/" + pattern
    if rng.random() < 0.2:
        pattern = "**/" + pattern
    if rng.random() < 0.2:
        pattern += "/"
    if rng.random() < 0.15:
        pattern += "/**"
    if rng.random() < 0.25:
        pattern = "!" + pattern
    if rng.random() < 0.1:
        pattern += "  "
    return pattern


def random_tree(directory: Path, rng: random.Random, depth: int = 0) -> None:
    for name in rng.sample(NAMES, rng.randint(2, 6)):
        path = directory / name
        if name.endswith((".py", ".txt")) or depth >= 3 or rng.random() < 0.4:
            path.write_bytes(b"x = 1\n")
        else:
            path.mkdir()
            random_tree(path, rng, depth + 1)
    if rng.random() < 0.6:
        newline = "\r\n" if rng.random() < 0.1 else "\n"
        lines = [random_pattern(rng) for _ in range(rng.randint(1, 6))]
        (directory / ".gitignore").write_bytes((newline.join(lines) + newline).encode("utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(3))
def test_generated_trees_walk_like_git(tmp_path, batch):
    env = git_env(tmp_path)
    differences, ignored = [], 0
    for seed in range(batch * 30, batch * 30 + 30):
        rng = random.Random(seed)
        top = git_init(tmp_path / f"tree{seed}", env)
        if rng.random() < 0.5:
            exclude = top / ".git" / "info" / "exclude"
            exclude.write_text("\n".join(random_pattern(rng) for _ in range(3)) + "\n",
                               encoding="utf-8")
        random_tree(top, rng)
        theirs, ours = not_ignored_by_git(top, env), not_ignored_by_us(top)
        if theirs != ours:
            patterns = {str(p.relative_to(top)): p.read_text(encoding="utf-8")
                        for p in top.rglob(".gitignore")}
            differences.append((seed, sorted(set(theirs) ^ set(ours)), patterns))
        ignored += len([p for p in top.rglob("*.py") if ".git" not in p.parts]) - len(ours)
    assert differences == []
    assert ignored > 20  # the generated patterns do ignore things


# ------------------------------------------------------------------ the cases of gitignore(5)

CASES = [
    # (gitignore lines, paths to ask about)
    (["*.log", "!keep.log"], ["a.log", "keep.log", "sub/b.log", "sub/keep.log"]),
    (["/top.py", "mid/low.py"], ["top.py", "sub/top.py", "mid/low.py", "x/mid/low.py"]),
    (["build/"], ["build", "x/build", "build.py"]),
    (["**/cache", "lib/**", "a/**/z.py"], ["cache", "x/y/cache", "lib/x.py", "lib",
                                           "a/z.py", "a/b/c/z.py", "b/a/z.py"]),
    (["\\#hash.py", "\\!bang.py", "trail\\ ", "space  ", "#comment.py"],
     ["#hash.py", "!bang.py", "trail ", "space", "space  ", "#comment.py"]),
    (["*.py", "!/src/", "/src/*", "!/src/keep.py"], ["src", "src/keep.py", "src/drop.py"]),
    (["[a-c].py", "[!a-c]?.py", "[[:digit:]]x.py"], ["a.py", "d.py", "dd.py", "ad.py", "1x.py"]),
    (["foo/", "!foo"], ["foo", "foo.py"]),
]


@pytest.mark.parametrize("lines, paths", CASES)
def test_cases_of_the_manual_match_check_ignore(tmp_path, lines, paths):
    env = git_env(tmp_path)
    top = git_init(tmp_path / "repo", env)
    (top / ".gitignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in paths:
        target = top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path in ("build", "x/build", "cache", "x/y/cache", "lib", "src", "foo"):
            target.mkdir(exist_ok=True)
        elif not target.exists():
            target.write_text("x = 1\n", encoding="utf-8")
    assert ignored_by_us(top, paths) == ignored_by_git(top, env, paths)


def test_nested_gitignore_files_and_info_exclude(tmp_path):
    env = git_env(tmp_path)
    top = git_init(tmp_path / "repo", env)
    (top / ".git" / "info" / "exclude").write_text("*.tmp.py\nlocal/\n", encoding="utf-8")
    (top / ".gitignore").write_text("*.gen.py\n!*.tmp.py\n", encoding="utf-8")
    (top / "pkg" / "local").mkdir(parents=True)
    (top / "pkg" / ".gitignore").write_text("!api.gen.py\n/only_here.py\n", encoding="utf-8")
    for name in ("a.tmp.py", "a.gen.py", "pkg/api.gen.py", "pkg/other.gen.py", "pkg/only_here.py",
                 "only_here.py", "pkg/local/x.py", "pkg/deeper/only_here.py"):
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text("x = 1\n", encoding="utf-8")
    ours = not_ignored_by_us(top)
    assert ours == not_ignored_by_git(top, env)
    # .gitignore overrides info/exclude; a deeper .gitignore overrides a higher one
    assert ours == ["a.tmp.py", "only_here.py", "pkg/api.gen.py", "pkg/deeper/only_here.py"]


def test_info_exclude_of_a_linked_worktree(tmp_path):
    env = git_env(tmp_path)
    main = git_init(tmp_path / "main", env)
    (main / "kept.py").write_text("x = 1\n", encoding="utf-8")
    git(main, env, "add", "kept.py")
    git(main, env, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x")
    (main / ".git" / "info" / "exclude").write_text("secret.py\n", encoding="utf-8")
    linked = tmp_path / "linked"
    git(main, env, "worktree", "add", "-q", str(linked))
    assert (linked / ".git").is_file()
    (linked / "secret.py").write_text("x = 1\n", encoding="utf-8")
    (linked / "new.py").write_text("x = 1\n", encoding="utf-8")
    assert work_tree_top(str(linked / "deep")) == str(linked)
    assert ignored_by_us(linked, ["secret.py", "new.py"]) == ["secret.py"]
    assert ignored_by_git(linked, env, ["secret.py", "new.py"]) == ["secret.py"]


def test_a_symlinked_gitignore_is_not_read(tmp_path):
    (tmp_path / "rules").write_text("*.py\n", encoding="utf-8")
    (tmp_path / ".gitignore").symlink_to(tmp_path / "rules")
    (tmp_path / ".git").mkdir()
    assert not GitIgnore(str(tmp_path)).ignored(str(tmp_path / "a.py"), False)


def test_patterns_git_can_never_match_are_dropped():
    assert parse(b"[unclosed\nends\\\n[[:nope:]]\n!\n/\n", b"") == []
    assert len(parse(b"\xef\xbb\xbf# comment\r\nok.py\r\n\n", b"")) == 1
