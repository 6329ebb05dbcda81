"""Telling customers: the status-page kind of outside service (Atlassian Statuspage)."""
