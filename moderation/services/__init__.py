"""Use cases: the only layer that commits, writes audit events and emits outbound events."""
