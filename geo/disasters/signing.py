"""Signed CAP alerts: an enveloped XML Signature (RSA-SHA256, exclusive C14N) on every CAP message.

Alert hubs in strict mode refuse unsigned CAP; a signature lets anyone check that a warning comes
from the city. The key and certificate are PEM files named by ``Settings.cap_key_file`` and
``cap_cert_file``; when those are unset, a self-signed pair is generated on first start into
``<data_dir>/cap/`` (development; production should configure a certificate the hubs trust). The
certificate is published at ``/feeds/cap/certificate.pem`` and included in each signature.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier
from signxml.algorithms import CanonicalizationMethod

from geo.settings import Settings

SIGNER = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
    x509.NameAttribute(NameOID.LOCALITY_NAME, "Huế"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HueIOC"),
    x509.NameAttribute(NameOID.COMMON_NAME, "HueIOC CAP alerts (self-signed, development)"),
])  # fmt: skip
GENERATED_VALID_DAYS = 825
SIGNING_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class CapSigner:
    """Signs CAP documents with one key; ``certificate_pem`` is what verifiers check them against."""

    key_pem: bytes
    certificate_pem: bytes

    def sign(self, document: bytes) -> bytes:
        """The document with an enveloped ``ds:Signature`` as the last child of its root (CAP 1.2 allows it)."""
        signer = XMLSigner(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        root = etree.fromstring(document)
        signed = signer.sign(root, key=self.key_pem, cert=self.certificate_pem.decode())
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")

    def verify(self, document: bytes) -> bytes:
        """The signed part of a document signed with this certificate; ``signxml.InvalidSignature`` otherwise."""
        result = XMLVerifier().verify(document, x509_cert=self.certificate_pem.decode(), expect_references=1)
        assert not isinstance(result, list)  # one reference expected, one result
        return etree.tostring(result.signed_xml)


def load_signer(settings: Settings) -> CapSigner:
    """The configured key and certificate, or the generated development pair (made on first use)."""
    key_file, cert_file = settings.cap_signing_files
    configured = settings.cap_key_file is not None or settings.cap_cert_file is not None
    if not (key_file.exists() and cert_file.exists()):
        if configured:
            missing = " and ".join(str(p) for p in (key_file, cert_file) if not p.exists())
            raise FileNotFoundError(f"CAP signing: {missing} not found (HUEGIS_CAP_KEY_FILE, HUEGIS_CAP_CERT_FILE)")
        _generate(key_file, cert_file)
        for _ in range(100):  # another process may have won the race and be writing its certificate
            if cert_file.exists():
                break
            time.sleep(0.05)
    return CapSigner(key_file.read_bytes(), cert_file.read_bytes())


def _generate(key_file: Path, cert_file: Path) -> None:
    """A self-signed RSA 3072 pair: the key readable by its owner only; safe when processes race."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(SIGNER)
        .issuer_name(SIGNER)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=GENERATED_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(SIGNING_ONLY, critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    key_file.parent.mkdir(parents=True, exist_ok=True)
    staged_key, staged_cert = key_file.with_suffix(f".{os.getpid()}.tmp"), cert_file.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(staged_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    staged_cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    try:
        os.link(staged_key, key_file)  # the first process wins; the others use its pair
    except FileExistsError:
        pass
    else:
        os.replace(staged_cert, cert_file)
    finally:
        staged_key.unlink(missing_ok=True)
        staged_cert.unlink(missing_ok=True)
