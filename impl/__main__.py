"""``python -m impl node|status|cluster ...`` (the same as ``electorate ...``)."""

import sys

from impl.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
