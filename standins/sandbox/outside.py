"""The sandbox's outside services: PagerDuty and Statuspage stand-ins, the policy that points
`checkout` at them, and `/outside`, which shows what they received (pages, status-page posts)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from bot.paging.policy import PagingPolicy, PagingTarget
from bot.statuspage.policy import StatusPagePolicy
from standins.pagerduty.api import PagerDutyStandIn
from standins.statuspage.api import StatuspageStandIn

PD_KEY_ENV = "WARROOM_SANDBOX_PAGERDUTY_KEY"
STATUSPAGE_KEY_ENV = "WARROOM_SANDBOX_STATUSPAGE_KEY"
PAGE_ID = "sandboxpage01"
COMPONENT = "cmpcheckout01"


class Outside:
    def __init__(self) -> None:
        # The keys live in this process's environment only, as a real deployment's would.
        pd_key = secrets.token_hex(16)
        sp_key = secrets.token_hex(16)
        os.environ[PD_KEY_ENV], os.environ[STATUSPAGE_KEY_ENV] = pd_key, sp_key
        self.pagerduty = PagerDutyStandIn({pd_key}).start()
        self.statuspage = StatuspageStandIn(sp_key, PAGE_ID, {COMPONENT: "Checkout API"}).start()

    def policy(self) -> dict[str, Any]:
        """The Policy fields: `checkout` is paged through PagerDuty and has a status page."""
        return {
            "paging": PagingPolicy(
                targets={
                    "checkout": PagingTarget(
                        provider="pagerduty", key_env=PD_KEY_ENV, url=self.pagerduty.url
                    )
                },
                backoff_seconds=1,
            ),
            "status_page": StatusPagePolicy(
                page_id=PAGE_ID,
                api_key_env=STATUSPAGE_KEY_ENV,
                url=self.statuspage.url,
                components={"checkout": COMPONENT},
            ),
        }

    def lines(self) -> list[str]:
        out = ["PagerDuty stand-in (alerts by dedup key):"]
        alerts = list(self.pagerduty.alerts)
        out += [f"  {a.dedup_key}  {a.status}  [{a.severity}] {a.summary}" for a in alerts]
        if not alerts:
            out.append("  nothing paged yet")
        out.append("Statuspage stand-in (incidents):")
        incidents = list(self.statuspage.incidents.values())
        for inc in incidents:
            parts = ", ".join(f"{c['name']}: {c['status']}" for c in inc.get("components", []))
            out.append(f"  {inc['name']} — {inc['status']}" + (f" ({parts})" if parts else ""))
        if not incidents:
            out.append("  nothing published yet")
        return out

    def stop(self) -> None:
        self.pagerduty.stop()
        self.statuspage.stop()
