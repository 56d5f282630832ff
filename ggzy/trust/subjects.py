"""Which registered subject a certificate names: the USCC (entity) or resident ID number (person)
in its subject, in the attribute the CA's configuration names or, by default, the usual ones."""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

from ggzy.core.identifiers import IdentifierError, validate_resident_id, validate_uscc

ATTRIBUTE_NAMES = {
    "CN": NameOID.COMMON_NAME,
    "serialNumber": NameOID.SERIAL_NUMBER,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "organizationIdentifier": x509.ObjectIdentifier("2.5.4.97"),
    "UID": NameOID.USER_ID,
    "title": NameOID.TITLE,
}
# Where CAs usually put the USCC / ID number when the CA's configuration does not say.
DEFAULT_ATTRIBUTES = ("organizationIdentifier", "serialNumber", "UID", "OU", "CN")
_TOKEN = re.compile(r"[0-9A-Z]{18}")


def subject_identifier(cert: x509.Certificate, attribute: str = "") -> tuple[str, str]:
    """(USCC or ID number, ``entity``/``person``) from the subject, or ``("", "")``."""
    names = (attribute,) if attribute else DEFAULT_ATTRIBUTES
    for name in names:
        oid = ATTRIBUTE_NAMES.get(name) or _oid(name)
        if oid is None:
            continue
        for attr in cert.subject.get_attributes_for_oid(oid):
            value = attr.value if isinstance(attr.value, str) else ""
            found = _identifier_in(value.upper())
            if found:
                return found
    return "", ""


def _oid(dotted: str) -> x509.ObjectIdentifier | None:
    try:
        return x509.ObjectIdentifier(dotted)
    except ValueError:
        return None


def _identifier_in(value: str) -> tuple[str, str] | None:
    for token in _TOKEN.findall(value):
        for check, kind in ((validate_uscc, "entity"), (validate_resident_id, "person")):
            try:
                return check(token), kind
            except IdentifierError:
                continue
    return None


def known_attribute(name: str) -> bool:
    return name in ATTRIBUTE_NAMES or _oid(name) is not None
