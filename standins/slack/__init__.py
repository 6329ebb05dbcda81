"""Slack stood in: the Web API server (`api.SlackStandIn`) with its Socket Mode hub, and the
driver that plays Slack's side of commands, clicks and events (`driver`, `socket_driver`)."""
