"""``python -m pybuildah``: the same as the ``pybuildah`` command."""

import sys

from .cli import main

sys.exit(main())
