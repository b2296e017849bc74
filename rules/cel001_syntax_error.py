from typing import Iterator

from celerylint.project import Project
from celerylint.rule import Finding, Rule
from celerylint.syntax import NEWEST_GRAMMAR, grammar_name, newer_than


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a Python file that celerylint needs (one that can hold Celery apps,
    settings, tasks, dispatches or beat entries) and cannot parse, judged against
    the project's own Python: the lowest version its `requires-python` (or Poetry's
    `python`, or setup.cfg's `python_requires`) allows, else the newest grammar the
    linter knows (Python 3.14).  That covers syntax errors, constructs the project's
    Python does not have yet (`match` in a project for 3.9, `type X = ...` or PEP 701
    f-strings in one for 3.11), files that are not valid in their declared encoding,
    and expressions nested beyond what Python compiles.

    ## Why is this bad?
    A file the linter cannot parse is a file it cannot check: its tasks, settings
    and dispatches are missing from the project view, so findings in other files
    may be missing too.  The project's own Python would refuse to import it as well.
    The rest of the run goes on.

    ## Example
    ```python
    from celery import shared_task


    @shared_task
    def broken(:
        pass
    ```

    ## Use instead
    Fix the syntax error; raise `requires-python` when the project no longer
    supports the older Python; or exclude the file (`extend-exclude`) when it is
    not Python source.

    ## What it does not flag
    Files that hold nothing Celery-related: whether they parse is not celerylint's
    business (flake8's E999 and ruff report syntax errors).  The result never depends
    on the interpreter that runs the linter.  Valid Python that the parser (libcst)
    cannot read is not called a syntax error: the run names the file on stderr and
    exits 2.  Constructs older than Python 3.5 are not dated.

    ## References
    - [PEP 263 – source code encodings](https://peps.python.org/pep-0263/)
    - [Python: what's new, by release](https://docs.python.org/3/whatsnew/index.html)
    - [PyPA: `requires-python`](https://packaging.python.org/en/latest/specifications/pyproject-toml/)
    """

    code = "CEL001"
    name = "syntax-error"
    severity = "error"

    def check(self, project: Project) -> Iterator[Finding]:
        python = project.python_version or NEWEST_GRAMMAR
        grammar = grammar_name(python)
        for facts in project.each_file():
            path = facts.path
            if facts.error is not None and facts.error_loc is not None:
                prefix = f"syntax error for {grammar}: " if facts.error_kind == "syntax" else ""
                yield self.finding(path, facts.error_loc, prefix + facts.error)
                continue
            feature = newer_than(facts.syntax, python)
            if feature is not None:
                needed = grammar_name((feature.version[0], feature.version[1]))
                yield self.finding(path, feature.loc,
                                   f"syntax error for {grammar}: {feature.name} came in {needed}")
