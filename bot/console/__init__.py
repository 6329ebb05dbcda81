"""The web console: Sign in with Slack, incidents, timelines, post-mortems and metrics in a browser."""
