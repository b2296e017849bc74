import sys

from celerylint.cli import main

sys.exit(main())
