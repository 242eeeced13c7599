"""``python -m ikaros``: the command line."""

from ikaros.cli import main

main()
