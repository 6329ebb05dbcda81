"""The one error type whose message is shown to a person in Slack."""


class UserError(Exception):
    """Bad input or a request that cannot be met; the message says what to type instead."""


UNREACHABLE = (
    "Warroom cannot reach its database right now, so nothing was done. "
    "Try again in a minute; if it lasts, tell your Warroom admins."
)


class DatabaseUnreachable(UserError):
    """The database refused or dropped the connection (a restart, a network cut, a locked
    SQLite file): nothing of the transaction was kept, and the person is told to retry."""

    def __init__(self, message: str = UNREACHABLE) -> None:
        super().__init__(message)
