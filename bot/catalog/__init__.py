"""The service catalog: what the policy says of each service, and what declaring fills in."""
