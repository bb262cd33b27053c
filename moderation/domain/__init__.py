"""Pure rules of the service: no Flask, no SQLAlchemy, explicit inputs (the clock too)."""
