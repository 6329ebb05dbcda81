"""A stand-in for Atlassian Statuspage's REST API v1 (incidents)."""
