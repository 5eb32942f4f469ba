import sys

from ns8sim.cli import main

sys.exit(main())
