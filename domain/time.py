"""Time in the committees' zone.

Asia/Shanghai is UTC+8 all year (no daylight saving since 1991), so a fixed offset gives the same instants as
zoneinfo.ZoneInfo("Asia/Shanghai") without reading the tz database, and it also works inside Temporal's workflow
sandbox, where ZoneInfo is a restricted proxy that datetime refuses as a tzinfo. The one definition: every module
that names the zone imports it from here.
"""

from __future__ import annotations

from datetime import timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "CST")
