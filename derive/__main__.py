"""``python -m derive``: the command line, as the ``derive`` script runs it."""

from derive.cli import main

main()
