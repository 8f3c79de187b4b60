"""How the admin shows durations and the totals of timeentries.reports."""

from datetime import date, datetime


def entry_seconds(started_at: datetime, ended_at: datetime | None, paused: int, now: datetime):
    """One entry's worked seconds (a running one up to now), as the report sums them."""
    return max(int(((ended_at or now) - started_at).total_seconds()) - paused, 0)


def hours_minutes(seconds: int) -> str:
    """7:05 for 7 hours 5 minutes; hours grow past 24 rather than turning into days."""
    sign, minutes = ("-" if seconds < 0 else ""), abs(seconds) // 60
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def amounts_text(totals: dict) -> str:
    """ "EUR 1,234.50 · USD 10.00" from a report's totals; "-" without any amount."""
    parts = [f"{a['currency']} {float(a['amount']):,.2f}" for a in totals["amounts"]]
    return " · ".join(parts) or "-"


def key_date(key: str) -> date:
    """A report's period key (YYYY, YYYY-MM or YYYY-MM-DD) as the first day it covers."""
    parts = [int(p) for p in key.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])
