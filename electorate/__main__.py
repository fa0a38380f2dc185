"""``python -m electorate COMMAND ...``: the same as the ``electorate`` console script."""

import sys

from electorate.app.main import main

if __name__ == "__main__":
    sys.exit(main())
