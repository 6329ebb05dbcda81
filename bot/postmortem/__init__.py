"""Post-mortems compiled from the timeline, action items, and incident metrics."""
