"""``python -m lsgan_theory`` is the ``lsgan-theory`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
