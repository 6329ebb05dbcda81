"""Preserved evidence of an incident: an archive of its war room with a chained SHA-256 manifest."""
