import sys

from vvtui.cli import main

sys.exit(main())
