"""``python -m grader_utils``: the instructor's command line (see :mod:`grader_utils.cli`)."""

import sys

from .cli import main

sys.exit(main())
