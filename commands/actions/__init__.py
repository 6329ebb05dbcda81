"""The allow-listed actions (diagnostics and remediations) with typed, validated parameters."""
