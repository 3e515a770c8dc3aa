"""CAP 1.2 alerts and the Atom index of active alerts, as public alert hubs consume them.

Times carry Huế's offset (``2026-10-28T14:00:00+07:00``): CAP 1.2 rejects ``Z``. Each zone's
latest message is its CAP document: ``Alert`` when new, ``Update`` after a change, ``Cancel``
once cancelled; ``references`` lists every earlier message as ``sender,identifier,sent``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from psycopg import AsyncConnection

from geo import models
from geo.db import fetch_all, fetch_one
from geo.disasters.zones import get_zone
from geo.errors import InvalidInput
from geo.times import TZ

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SENDER = "hueioc@hue.gov.vn"
SENDER_NAME = {
    "vi-VN": "Trung tâm Giám sát, điều hành đô thị thông minh Huế (HueIOC)",
    "en-US": "Huế Intelligent Operations Centre (HueIOC)",
}
CONTACT = "HueIOC, đường dây nóng / hotline 1900 1075"
GEOCODE_NAME = "VN-MaDVHC-2025"  # the official 5-digit ward/commune code since 1 July 2025

HAZARD_EVENT_EN = {
    "flood": "Flood",
    "flash_flood": "Flash flood",
    "typhoon": "Typhoon",
    "tropical_storm": "Tropical storm",
    "landslide": "Landslide",
    "storm_surge": "Storm surge",
    "heavy_rain": "Heavy rain",
    "drought": "Drought",
    "heat_wave": "Heat wave",
    "other": "Hazard",
}


def cap_time(value: datetime) -> str:
    """``2026-10-28T14:00:00+07:00``: whole seconds, Huế's explicit offset, never ``Z``."""
    return value.astimezone(TZ).isoformat(timespec="seconds")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _atom(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _rings(geometry: dict[str, Any]) -> list[str]:
    """Each polygon's outer ring as CAP wants it: ``lat,lon`` pairs separated by spaces, closed."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    out = []
    for polygon in polygons:
        ring = polygon[0]  # CAP polygons have no holes: the outer ring bounds the area
        if len(ring) >= 4:
            out.append(" ".join(f"{lat},{lon}" for lon, lat, *_ in ring))
    return out


async def cap_alert(conn: AsyncConnection, *, zone_id: int, web_base: str) -> bytes:
    """The zone's latest CAP 1.2 message as UTF-8 XML (``NotFound`` for an unknown zone)."""
    zone = await get_zone(conn, zone_id=zone_id)
    area = await fetch_one(conn, "disasters/cap_area", {"id": zone_id})
    assert area is not None
    return render_cap(zone, area, web_base=web_base)


def render_cap(zone: dict[str, Any], area: dict[str, Any], *, web_base: str) -> bytes:
    """CAP 1.2 XML for a zone (with ``messages``) and its area (``geometry``, ``wards``)."""
    messages = zone["messages"]
    latest, earlier = messages[-1], messages[:-1]
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", latest["identifier"])
    _sub(alert, "sender", SENDER)
    _sub(alert, "sent", cap_time(latest["sent"]))
    _sub(alert, "status", zone["status"])
    _sub(alert, "msgType", latest["msg_type"])
    _sub(alert, "source", zone["source"])
    _sub(alert, "scope", "Public")
    if latest["note"] or latest["msg_type"] == "Cancel":
        _sub(alert, "note", latest["note"] or "Cảnh báo đã được hủy / Alert cancelled")
    if latest["msg_type"] in ("Update", "Cancel") and earlier:
        _sub(alert, "references", " ".join(f"{SENDER},{m['identifier']},{cap_time(m['sent'])}" for m in earlier))
    _sub(alert, "incidents", f"HUEGIS-DZ-{zone['id']}")
    ward_names = ", ".join(w["name"] for w in area["wards"]) or "Thành phố Huế"
    for language in ("vi-VN", "en-US"):
        vi = language == "vi-VN"
        info = _sub(alert, "info")
        _sub(info, "language", language)
        _sub(info, "category", zone["category"])
        _sub(info, "event", zone["event"] if vi else HAZARD_EVENT_EN[zone["hazard"]])
        if latest["msg_type"] == "Cancel":
            _sub(info, "responseType", "AllClear")
        _sub(info, "urgency", zone["urgency"])
        _sub(info, "severity", zone["severity"])
        _sub(info, "certainty", zone["certainty"])
        code = _sub(info, "eventCode")
        _sub(code, "valueName", "HueGIS-hazard")
        _sub(code, "value", zone["hazard"])
        _sub(info, "onset", cap_time(zone["onset"]))
        _sub(info, "expires", cap_time(zone["expires"]))
        _sub(info, "senderName", SENDER_NAME[language])
        _sub(info, "headline", zone["headline_vi"] if vi else zone["headline_en"])
        description = (
            f"{zone['event']}: khu vực ảnh hưởng gồm {ward_names}."
            if vi
            else f"{HAZARD_EVENT_EN[zone['hazard']]} affecting {ward_names}."
        )
        _sub(info, "description", description)
        instruction = zone["instruction_vi"] if vi else zone["instruction_en"]
        if instruction:
            _sub(info, "instruction", instruction)
        _sub(info, "web", f"{web_base.rstrip('/')}/emergency?lang={'vi' if vi else 'en'}#zone-{zone['id']}")
        _sub(info, "contact", CONTACT)
        area_el = _sub(info, "area")
        _sub(area_el, "areaDesc", ward_names)
        for ring in _rings(area["geometry"]):
            _sub(area_el, "polygon", ring)
        for ward in area["wards"]:
            geocode = _sub(area_el, "geocode")
            _sub(geocode, "valueName", GEOCODE_NAME)
            _sub(geocode, "value", ward["code"])
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)


async def atom_index(
    conn: AsyncConnection, *, web_base: str, status: str = "Actual", lang: str = "vi", at: datetime | None = None
) -> bytes:
    """Atom 1.0 feed with one entry per zone active now (or at ``at``) of one CAP status."""
    if status not in models.CAP_STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(models.CAP_STATUSES)}")
    if lang not in ("vi", "en"):
        raise InvalidInput(f"lang: {lang!r} is not 'vi' or 'en'")
    moment = at or datetime.now(TZ)
    alerts = await fetch_all(conn, "disasters/active_alerts", {"at": moment, "status": status})
    base = web_base.rstrip("/")
    # Plain tags under an xmlns attribute: ElementTree's default_namespace refuses unprefixed attributes.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "vi-VN" if lang == "vi" else "en-US")
    _atom(feed, "id", f"{base}/feeds/cap.atom?status={status}")
    title = "Cảnh báo thiên tai đang hiệu lực - Huế" if lang == "vi" else "Active disaster alerts - Huế"
    _atom(feed, "title", title)
    _atom(feed, "updated", cap_time(max((a["sent"] for a in alerts), default=moment)))
    author = _atom(feed, "author", None)
    _atom(author, "name", SENDER_NAME["vi-VN" if lang == "vi" else "en-US"])
    link = _atom(feed, "link", None)
    link.set("rel", "self")
    link.set("href", f"{base}/feeds/cap.atom")
    for alert in alerts:
        entry = _atom(feed, "entry", None)
        _atom(entry, "id", f"urn:cap:{SENDER}:{alert['identifier']}")
        _atom(entry, "title", alert["headline_vi"] if lang == "vi" else alert["headline_en"])
        _atom(entry, "updated", cap_time(alert["sent"]))
        summary = (
            f"{alert['event']} ({alert['severity']}, {alert['urgency']}, {alert['certainty']}); "
            f"{cap_time(alert['onset'])} - {cap_time(alert['expires'])}"
        )
        _atom(entry, "summary", summary)
        category = _atom(entry, "category", None)
        category.set("term", alert["hazard"])
        cap_link = _atom(entry, "link", None)
        cap_link.set("rel", "alternate")
        cap_link.set("type", "application/cap+xml")
        cap_link.set("href", f"{base}/feeds/cap/{alert['id']}.xml")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
