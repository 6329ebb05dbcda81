"""The web console: Sign in with Slack, incidents, timelines, post-mortems, metrics."""
