"""simple-salesforce reading JSON answers with orjson, straight from the answer's bytes.

simple-salesforce parses every answer through ``requests``' ``Response.json``: the body's bytes are first decoded
into a ``str`` (UCS-2 or UCS-4 as soon as one name carries a character beyond Latin-1, so up to four times the body)
and then parsed into ``OrderedDict``s. For a 2,000-record query page that is several megabytes of short-lived
copies per page, the largest transient allocation of a Salesforce sync. orjson parses the bytes into plain dicts
(same keys, same order, same values) without the intermediate text.

An answer orjson refuses but Python's json accepts (a lone surrogate escape, an integer beyond 64 bits, ``NaN``)
is parsed the way simple-salesforce always did, so what the reader sees never depends on the parser.
"""

from __future__ import annotations

from typing import Any

import orjson
import requests
from simple_salesforce import Salesforce


class OrjsonSalesforce(Salesforce):
    """``simple_salesforce.Salesforce`` whose JSON answers (queries, limits, describes) are parsed by orjson.

    Built without ``parse_float`` (floats stay floats, as orjson reads them); ``SFType`` answers keep their parser.
    """

    def parse_result_to_json(self, result: requests.Response) -> Any:
        """The answer's JSON; plain dicts instead of ``OrderedDict``s (insertion order is the same)."""
        try:
            return orjson.loads(result.content)
        except orjson.JSONDecodeError:
            # Stricter than json: the lenient parser has its say (and raises as simple-salesforce always did).
            return super().parse_result_to_json(result)
