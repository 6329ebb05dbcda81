"""A stand-in for PagerDuty's Events API v2."""
