"""``python -m leadjourney`` runs the command-line interface."""

from leadjourney.cli import main

main()
