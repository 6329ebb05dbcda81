"""Alerts in: monitoring systems' webhooks, routed by the policy to incidents."""
