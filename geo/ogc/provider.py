"""pygeoapi providers that publish only the registry's columns, and "active at t" for intervals.

Tables hold columns that are not published (a report's free-text description, internal keys).
The stock provider reflects the whole table, so property filters, ``sortby``, ``filter`` (CQL) and
the queryables would reach those columns and let a client probe them; ``PublishedProvider``
limits all of them to the configured ``properties`` plus the id, geometry and time columns.

The second part is about layers whose rows are valid over an interval (disaster zones).

pygeoapi's stock PostgreSQL provider filters ``datetime`` on one column (``time_field = t``), so
QGIS asking "what is active at t?" would get only zones whose onset is exactly t. This provider
reads ``time_end_fields`` from its configuration (written by ``geo/ogc/config.py`` from the
registry) and answers with the rows active at t: ``time_field <= t`` and ``t < end`` for every
end column that is set (for disaster zones: ``expires`` and ``cancelled_at``). An interval
``a/b`` selects the rows active at some moment of it.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from dateutil.parser import isoparse
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.sql import PostgreSQLProvider
from pygeofilter.backends.sqlalchemy.evaluate import to_filter
from sqlalchemy import and_, or_


def _invalid(message: str) -> ProviderInvalidQueryError:
    """A 400 that names the problem (pygeoapi answers a bare ``ProviderInvalidQueryError(msg)`` "query error")."""
    return ProviderInvalidQueryError(user_msg=message)


class ClientErrorsAsInfo(logging.Filter):
    """pygeoapi logs every error answer at ERROR with the exception in flight: a client's bad query is
    neither an error of ours nor worth a traceback, so it is logged as one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and getattr(exc, "http_status_code", 500) < 500:
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_client_errors() -> None:
    """Install ``ClientErrorsAsInfo`` on the logger of pygeoapi's error answers (once)."""
    logger = logging.getLogger("pygeoapi.api")
    if not any(isinstance(f, ClientErrorsAsInfo) for f in logger.filters):
        logger.addFilter(ClientErrorsAsInfo())


class PublishedProvider(PostgreSQLProvider):
    """pygeoapi's PostgreSQL provider that filters, sorts and describes only published columns."""

    def _published(self) -> set[str]:
        return {*self.properties, self.id_field, self.geom, *([self.time_field] if self.time_field else [])}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        published = self._published()
        self._fields = {name: kind for name, kind in fields.items() if name in published}
        return self._fields

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """The stock query; input PostgreSQL refuses is a 400 (pygeoapi 0.21 lets it through as a 500)."""
        if len(kwargs.get("bbox") or []) not in (0, 4):  # 6 values (heights) reach ST_MakeEnvelope and fail
            raise _invalid("bbox: give 4 numbers minx,miny,maxx,maxy; these layers have no heights")
        try:
            return super().query(**kwargs)
        except sqlalchemy.exc.DataError as exc:  # e.g. updated_at=yesterday: a value the column's type cannot hold
            raise _invalid(f"a parameter does not fit its column: {exc.orig}".strip()) from None

    def _get_cql_filters(self, filterq: Any) -> Any:
        if not filterq:
            return True
        columns = {name: getattr(self.table_model, name) for name in self._published()}
        try:
            return to_filter(filterq, columns, undefined_as_null=False)
        except KeyError as exc:
            raise _invalid(f"filter: unknown property {exc.args[0]!r}") from None


class ActiveIntervalProvider(PublishedProvider):
    """pygeoapi's PostgreSQL provider where ``datetime`` selects the rows active at that time."""

    def __init__(self, provider_def: dict[str, Any]):
        super().__init__(provider_def)
        self.time_end_fields = tuple(provider_def.get("time_end_fields", ()))

    def _get_datetime_filter(self, datetime_: str | None) -> Any:
        if datetime_ in (None, "../.."):
            return True
        if self.time_field is None:
            raise _invalid("time_field not enabled for collection")
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
        raise _invalid(f"datetime: {text!r} is not an RFC 3339 date-time ({exc})") from exc
    return text
