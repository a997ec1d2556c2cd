"""``python -m lsgan_theory.cli`` is the ``lsgan-theory`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
