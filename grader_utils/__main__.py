"""``python -m grader_utils``: the instructor's command line (see :mod:`grader_utils.instructor.cli`)."""

import sys

from .instructor.cli import main

sys.exit(main())
