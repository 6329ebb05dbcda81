"""The one error type whose message is shown to a person in Slack."""


class UserError(Exception):
    """Bad input or a request that cannot be met; the message says what to type instead."""
