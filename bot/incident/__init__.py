"""The incident domain: declaration, lifecycle, war-room bookkeeping."""
