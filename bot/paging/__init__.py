"""Paging people: the on-call kind of outside service (PagerDuty, Jira Service Management)."""
