"""``python -m serverless_patterns.redrive``: the same command as ``serverless-patterns-redrive``."""

import sys

from serverless_patterns.redrive.cli import main

if __name__ == "__main__":
    sys.exit(main())
