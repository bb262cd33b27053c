"""``python -m moderation`` runs the ``moderation`` command."""

from moderation.cli import main

main()
