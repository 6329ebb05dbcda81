"""The sandbox: the bot against the stand-ins, in a terminal chat (`warroom sandbox`)."""
