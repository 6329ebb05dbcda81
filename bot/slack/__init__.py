"""Slack adapters: the Bolt app, the Web API chat adapter, the HTTP server."""
