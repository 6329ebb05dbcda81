"""Durable timers: status-update reminders, escalation, SLA warnings and follow-ups."""
