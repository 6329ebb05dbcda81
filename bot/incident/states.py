"""The status state machine: which moves are allowed and why the others are not."""

from __future__ import annotations

from bot.errors import UserError

ACTIVE = ("investigating", "identified", "mitigating", "monitoring")
RESOLVED = "resolved"
STATUSES = (*ACTIVE, RESOLVED)


class InvalidTransition(UserError):
    pass


class UnknownStatus(UserError):
    def __init__(self, given: str) -> None:
        super().__init__(f"`{given}` is not a status. Use one of: {', '.join(STATUSES)}.")


def parse_status(token: str) -> str:
    t = token.strip().lower()
    if t in STATUSES:
        return t
    raise UnknownStatus(token)


def check_transition(current: str, new: str) -> None:
    """Raise InvalidTransition with a message a responder can act on."""
    if new == current:
        raise InvalidTransition(f"The incident is already *{current}*.")
    if current == RESOLVED:
        raise InvalidTransition(
            "The incident is resolved. Use `/incident reopen` first if it is happening again."
        )
    if new not in STATUSES:
        raise UnknownStatus(new)
