"""Slash-command and button handlers: parse, call one service function, render the reply."""
