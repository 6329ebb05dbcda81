"""Warroom: an incident-response ChatOps bot for Slack."""
