"""Playbooks: runbooks as data (phases of steps), and their checklists in war rooms."""
