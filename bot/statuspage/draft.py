"""What the status page says, drafted from the incident: the runbooks' external communication
(P0/P1: an immediate status page update; customers told impact, progress and resolution)."""

from __future__ import annotations

from bot.models import Incident

OUTAGE = {"P0": "major_outage", "P1": "partial_outage", "P2": "degraded_performance"}
LEADS = {
    "investigating": "We are investigating",
    "identified": "The cause has been identified",
    "monitoring": "A fix has been applied and we are monitoring the results",
    "resolved": "This incident has been resolved",
}


def component_status(inc: Incident, status: str) -> str:
    if status == "resolved":
        return "operational"
    if status == "monitoring":
        return "degraded_performance"
    return OUTAGE.get(inc.severity, "degraded_performance")


def name(inc: Incident) -> str:
    return inc.title[:200]


def body(inc: Incident, status: str, message: str = "") -> str:
    lead = LEADS[status]
    if status == "investigating":
        text = f"{lead} reports of {inc.title[0].lower() + inc.title[1:]}."
        if inc.impact:
            text += f" Impact: {inc.impact.strip()}"
        return text + " We will post an update within 30 minutes."
    if status == "resolved":
        text = f"{lead}. {inc.summary.strip() or 'Service is operating normally.'}"
        return text + " We will share what happened and what we are changing to prevent it."
    text = f"{lead}." + (f" {message.strip()}" if message.strip() else "")
    return text + " We will post another update within 30 minutes."
