"""`warroom sandbox --web`: the terminal sandbox's workspace as a small Slack in the browser.

Channels and war rooms on the left, Block Kit rendered, buttons that click, modals as forms,
pins and reactions, uploaded files, switching users, and the scripted demo replayed. It drives
the same `Sandbox` (stand-ins, the real signed wire) as the terminal. Pages are rendered on the
server from autoescaped templates; one small script of our own polls `/live` for changes.
"""

from standins.sandbox.web.server import build, open_sandbox, run
from standins.sandbox.web.workspace import WebSandbox

__all__ = ["WebSandbox", "build", "open_sandbox", "run"]
