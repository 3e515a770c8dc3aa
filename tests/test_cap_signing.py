"""Signed CAP alerts: every CAP document the feeds link carries an enveloped XML Signature that verifies
with the certificate published at /feeds/cap/certificate.pem, and still validates against CAP 1.2.

Finding (issue 15): CAP documents were unsigned, which alert hubs in strict mode reject.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from disaster_fixtures import SQUARE, ZoneMaker
from lxml import etree
from signxml import InvalidSignature, XMLVerifier

from geo.disasters.signing import load_signer
from geo.settings import Settings

CAP_XSD = Path(__file__).resolve().parent / "specs" / "cap" / "cap12.xsd"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "ds": "http://www.w3.org/2000/09/xmldsig#",
      "a": "http://www.w3.org/2005/Atom"}  # fmt: skip


@pytest.fixture(scope="module")
def certificate(server: str) -> str:
    response = httpx.get(f"{server}/feeds/cap/certificate.pem")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-pem-file")
    x509.load_pem_x509_certificate(response.content)  # a real certificate
    return response.text


def linked_documents(client: httpx.Client) -> list[str]:
    """Every CAP link of the Atom index, for each status and language."""
    links = set()
    for status in ("Actual", "Exercise", "Test"):
        for lang in ("vi", "en"):
            feed = etree.fromstring(client.get("/feeds/cap.atom", params={"status": status, "lang": lang}).content)
            links |= set(feed.xpath("a:entry/a:link[@type='application/cap+xml']/@href", namespaces=NS))
    return sorted(re.sub(r"^https?://[^/]+", "", link) for link in links)


def test_every_linked_cap_document_is_signed_verifiable_and_valid(client: httpx.Client, zones: ZoneMaker,
                                                                  certificate: str) -> None:  # fmt: skip
    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    updated = zones.create()
    assert client.patch(f"/api/disasters/{updated['id']}", json={"severity": "Extreme"},
                        headers=zones.headers).status_code == 200  # fmt: skip
    zones.create(ring=SQUARE, status="Exercise")
    paths = linked_documents(client)
    assert f"/feeds/cap/{updated['id']}.xml" in paths and len(paths) >= 2
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        doc = etree.fromstring(response.content)
        assert schema.validate(doc), f"{path}: {schema.error_log}"
        signature = doc.xpath("/cap:alert/ds:Signature", namespaces=NS)
        assert len(signature) == 1 and doc[-1] is signature[0], "an enveloped signature, the alert's last child"
        signed = XMLVerifier().verify(response.content, x509_cert=certificate, expect_references=1).signed_xml
        assert signed.xpath("cap:identifier/text()", namespaces=NS) == doc.xpath("cap:identifier/text()", namespaces=NS)


def test_a_tampered_alert_fails_verification(client: httpx.Client, zones: ZoneMaker, certificate: str) -> None:
    zone = zones.create()
    original = client.get(f"/feeds/cap/{zone['id']}.xml").content
    XMLVerifier().verify(original, x509_cert=certificate, expect_references=1)
    tampered = original.replace(b"<severity>Severe</severity>", b"<severity>Minor</severity>")
    assert tampered != original
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(tampered, x509_cert=certificate, expect_references=1)


def test_development_pair_is_generated_once_with_a_private_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first, again = load_signer(settings), load_signer(settings)
    key_file, cert_file = settings.cap_signing_files
    assert first == again and key_file.stat().st_mode & 0o777 == 0o600
    assert first.certificate_pem == cert_file.read_bytes()
    document = b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>t</identifier></alert>'
    assert b"<identifier>t</identifier>" in first.verify(first.sign(document))
    other = load_signer(Settings(data_dir=tmp_path / "other"))
    with pytest.raises(InvalidSignature):
        other.verify(first.sign(document))


def test_configured_files_that_do_not_exist_are_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cap_key_file=tmp_path / "key.pem", cap_cert_file=tmp_path / "cert.pem")
    with pytest.raises(FileNotFoundError, match=r"key\.pem"):
        load_signer(settings)
