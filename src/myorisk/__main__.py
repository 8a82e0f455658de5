"""``python -m myorisk``: the same command line as the ``myorisk`` script."""

from myorisk.cli import main

main()
