"""`python -m sf_emulator`, the same as the `salesforce-emulator` script."""

import sys

from sf_emulator.cli import main

sys.exit(main())
