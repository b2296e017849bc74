from __future__ import annotations

from typing import AbstractSet, Dict, Iterator, List, Sequence, Set, Tuple

from celerylint.facts import NoqaComment
from celerylint.project import Project
from celerylint.rule import Finding, Rule, all_rules


class UnusedNoqa(Rule):
    """
    ## What it does
    Reports a `# noqa: CEL...` comment naming a celerylint code that suppresses
    nothing: no finding of that code is reported on the lines the comment covers
    (its line, or every line of a multi-line string or a backslash-continued line
    it ends).

    Off by default, like ruff's RUF100: it runs only when selected by its code
    (`--extend-select CEL002`, or `extend-select = ["CEL002"]`); a prefix such
    as `CEL` or `CEL0` does not turn it on.

    ## Why is this bad?
    A suppression outlives the finding it was written for: the code is fixed,
    the dispatch moves, the rule becomes more precise.  The stale comment then
    hides the next real finding of that code on the line, and nobody notices.
    Adopting celerylint with `--add-noqa` writes many such comments at once;
    this rule tells which ones can go as the code improves.

    ## Example
    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "report": {
            "task": "proj.tasks.report",
            "schedule": 3600.0,  # noqa: CEL104
            "options": {"expires": 3600},
        },
    }
    ```

    ## Use instead
    Remove the code from the comment (and the comment when nothing is left):

    ```python
    from celery import Celery

    app = Celery("proj", broker="redis://localhost:6379/0")
    app.conf.beat_schedule = {
        "report": {
            "task": "proj.tasks.report",
            "schedule": 3600.0,
            "options": {"expires": 3600},
        },
    }
    ```

    ## What it does not flag
    - A bare `# noqa`, and codes of other tools (`E501`, `F401`): whether they
      are used is for those tools to say (flake8-noqa's NQA102, ruff's RUF100).
    - A code whose rules did not all run: a rule that is not selected, or off
      by default, may still use it in another configuration or under flake8.
    - A code that names no celerylint rule (a prefix of none, a code from a
      newer release), `CEL002` itself, and whole-file comments
      (`# celerylint: noqa: ...`).
    - A `# noqa` written inside a string: it suppresses, as flake8's does, but
      it is not a comment to remove.
    - Files that cannot be parsed: their findings are unknown.
    - Under flake8: flake8 applies noqa comments itself; this rule runs in
      `celerylint check` only.

    ## References
    - [flake8: selecting and ignoring violations](https://flake8.pycqa.org/en/latest/user/violations.html#in-line-ignoring-errors)
    - [ruff: RUF100 unused-noqa](https://docs.astral.sh/ruff/rules/unused-noqa/)
    """

    code = "CEL002"
    name = "unused-noqa"
    severity = "warning"
    default_enabled = False

    def check(self, project: Project) -> Iterator[Finding]:
        return iter(())  # judged from the other rules' findings: check_findings

    def check_findings(self, project: Project, findings: Sequence[Finding],
                       ran: AbstractSet[str]) -> Iterator[Finding]:
        reported: Dict[Tuple[str, int], Set[str]] = {}
        for finding in findings:
            reported.setdefault((finding.path, finding.line), set()).add(finding.code)
        codes = [rule.code for rule in all_rules() if rule.code != self.code]
        for facts in project.each_file():
            if facts.error is not None or facts.internal_error is not None:
                continue
            for comment in facts.noqa_comments:
                unused = _unused_codes(comment, facts.path, reported, codes, ran, self.code)
                if unused:
                    verb = "reports" if len(unused) == 1 else "report"
                    yield self.finding(facts.path, comment.loc,
                                       f"`# noqa` names {', '.join(unused)}, which {verb} "
                                       "nothing on this line")


def _unused_codes(comment: NoqaComment, path: str, reported: Dict[Tuple[str, int], Set[str]],
                  codes: List[str], ran: AbstractSet[str], own: str) -> List[str]:
    """The comment's celerylint codes that no finding on its lines has, among those
    whose every rule ran."""
    here: Set[str] = set()
    for line in range(comment.first_line, comment.last_line + 1):
        here |= reported.get((path, line), set())
    unused = []
    for written in comment.codes:
        if not written.startswith("CEL") or written == own:
            continue
        covered = [code for code in codes if code.startswith(written)]
        if not covered or not all(code in ran for code in covered):
            continue
        if not any(code.startswith(written) for code in here):
            unused.append(written)
    return unused
