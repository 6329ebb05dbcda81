"""Local Slack stand-ins (Web API server, signed request driver) for tests and the sandbox."""
