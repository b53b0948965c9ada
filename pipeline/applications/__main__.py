"""``python -m pipeline.applications``: the same as ``spt-apps``."""
import sys

from pipeline.applications.cli import main

sys.exit(main())
