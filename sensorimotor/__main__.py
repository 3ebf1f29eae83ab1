import sys

from sensorimotor.cli import main

sys.exit(main())
