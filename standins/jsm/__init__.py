"""A stand-in for Jira Service Management Operations' integration alerts API."""
