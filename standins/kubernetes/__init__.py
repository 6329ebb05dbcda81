"""Kubernetes stood in: an API server (`api.K8sStandIn`) over an in-memory cluster with a
deployment controller, enough for the official client and `kubectl` to work against it."""
