from typing import Iterator

from celerylint.project import Project
from celerylint.rule import Finding, Rule


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a Python file that cannot be read or parsed: a syntax error, a file
    that is not valid in its declared encoding, a binary file, or nesting too
    deep for Python's own parser.

    ## Why is this bad?
    A file the linter cannot parse is a file it cannot check: its tasks,
    settings and dispatches are missing from the project view, so findings in
    other files may be missing too.  Python would refuse to import it as well.
    The rest of the run goes on.

    ## Example
    ```python
    def broken(:
        pass
    ```

    ## Use instead
    Fix the syntax error, or exclude the file (`extend-exclude`) when it is
    not Python source.

    ## What it does not flag
    Files excluded by `exclude`/`extend-exclude`, and files that are valid
    Python but use syntax newer than the running interpreter supports when
    libcst can still parse them.

    ## References
    - [PEP 263 – source code encodings](https://peps.python.org/pep-0263/)
    """

    code = "CEL001"
    name = "syntax-error"
    severity = "error"

    def check(self, project: Project) -> Iterator[Finding]:
        for path in sorted(project.files):
            facts = project.files[path]
            if facts.error is not None and facts.error_loc is not None:
                yield self.finding(path, facts.error_loc, f"cannot parse file: {facts.error}")
