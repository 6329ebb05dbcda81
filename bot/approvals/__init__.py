"""The approval engine: four-eyes, expiring, audited requests that run exactly once."""
