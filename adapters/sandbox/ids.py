"""Record ids as each CRM spells them, derived from the store's per-kind sequence number.

HubSpot ids are decimal strings. Salesforce ids are 18 characters: a 3-character key prefix naming the
object, a 12-character base-62 body, and the 3-character case-safety suffix Salesforce computes from it.
"""

from __future__ import annotations

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# Real key prefixes of the sObjects the sandbox serves.
SALESFORCE_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "User": "005",
    "Group": "00G",
    "Task": "00T",
    "Event": "00U",
    "Opportunity": "006",
}
HUBSPOT_ID_BASE = {  # HubSpot ids are large numbers; per-object offsets make them look it
    "contacts": 100_000_000,
    "companies": 200_000_000,
    "tasks": 300_000_000,
    "owners": 40_000_000,
    "meetings": 500_000_000,
    "deals": 600_000_000,
}


def hubspot_id(object_type: str, seq: int) -> str:
    """HubSpot-style numeric id for the ``seq``-th record of ``object_type``."""
    return str(HUBSPOT_ID_BASE.get(object_type, 900_000_000) + seq)


def salesforce_id(sobject: str, seq: int) -> str:
    """18-character Salesforce id for the ``seq``-th record of ``sobject``."""
    prefix = SALESFORCE_PREFIXES.get(sobject, "a00")
    body, n = "", seq
    for _ in range(12):
        n, digit = divmod(n, 62)
        body = _BASE62[digit] + body
    id15 = prefix + "000" + body[3:]  # instance-ish "000" keeps ids readable; 15 chars in all
    return id15 + _case_suffix(id15)


def _case_suffix(id15: str) -> str:
    """Salesforce's 3-character checksum: one bit per character that is an upper-case letter."""
    suffix = ""
    for block in range(3):
        bits = 0
        for pos, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX[bits]
    return suffix


def store_id_factory(kind: str, seq: int) -> str:
    """Id factory for the object store: ``hubspot.<type>`` and ``salesforce.<SObject>`` kinds."""
    crm, _, name = kind.partition(".")
    if crm == "salesforce":
        return salesforce_id(name, seq)
    if crm == "hubspot":
        return hubspot_id(name, seq)
    return str(seq)
