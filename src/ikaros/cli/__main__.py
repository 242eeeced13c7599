"""``python -m ikaros.cli``: the command line."""

from ikaros.cli import main

main()
