"""A pygeoapi provider for layers whose rows are valid over an interval (disaster zones).

pygeoapi's stock PostgreSQL provider filters ``datetime`` on one column (``time_field = t``), so
QGIS asking "what is active at t?" would get only zones whose onset is exactly t. This provider
reads ``time_end_fields`` from its configuration (written by ``layers/ogc.py`` from the
registry) and answers with the rows active at t: ``time_field <= t`` and ``t < end`` for every
end column that is set (for disaster zones: ``expires`` and ``cancelled_at``). An interval
``a/b`` selects the rows active at some moment of it.
"""

from __future__ import annotations

from typing import Any

from dateutil.parser import isoparse
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.sql import PostgreSQLProvider
from sqlalchemy import and_, or_


class ActiveIntervalProvider(PostgreSQLProvider):
    """pygeoapi's PostgreSQL provider where ``datetime`` selects the rows active at that time."""

    def __init__(self, provider_def: dict[str, Any]):
        super().__init__(provider_def)
        self.time_end_fields = tuple(provider_def.get("time_end_fields", ()))

    def _get_datetime_filter(self, datetime_: str | None) -> Any:
        if datetime_ in (None, "../.."):
            return True
        if self.time_field is None:
            raise ProviderInvalidQueryError("time_field not enabled for collection")
        start = getattr(self.table_model, self.time_field)
        ends = [getattr(self.table_model, name) for name in self.time_end_fields]
        if "/" in datetime_:
            begin, end = (_instant(part) for part in datetime_.split("/", 1))
        else:
            begin = end = _instant(datetime_)
        clauses = []
        if end is not None:
            clauses.append(start <= end)  # started by the end of the interval
        if begin is not None:
            # Not over before it begins: an instant t needs t < end, an interval [a, b] end > a.
            clauses += [or_(column.is_(None), column > begin) for column in ends]
        return and_(True, *clauses)


def _instant(text: str) -> str | None:
    """An RFC 3339 time as given (PostgreSQL parses it), None for an open end; 400 if unreadable."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        isoparse(text)
    except ValueError as exc:
        raise ProviderInvalidQueryError(f"datetime: {text!r} is not an RFC 3339 date-time ({exc})") from exc
    return text
