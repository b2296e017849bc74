import os
import sys

# `python -m celerylint` puts the current directory first on sys.path.  The
# project being checked must never be imported: a module of it named like one the
# linter imports would shadow it and run.
try:
    _cwd = os.getcwd()
except OSError:  # removed: the command says so itself
    _cwd = ""
if sys.path and sys.path[0] in ("", _cwd):
    del sys.path[0]

from celerylint.cli import main

sys.exit(main())
