"""Click commands of the ``moderation`` CLI, one module per group."""
