"""The task and nudge text: every outside value cleaned, bounded and escaped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from outbox_factories import HOSTILE, assignment

from connector.config.actions import LinksConfig, TemplatesConfig
from connector.outbox.task_body import clean, html_body, plain_body, safe_url, task_subject

LINKS = LinksConfig(hubspot_portal_id="62515001", salesforce_instance_url="https://acme.my.salesforce.com")


@given(st.text(), st.integers(min_value=1, max_value=500))
def test_clean_text_has_no_control_characters_and_respects_the_limit(value: str, limit: int) -> None:
    text = clean(value, limit)
    assert len(text) <= limit
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)


def test_the_body_says_who_why_and_what_to_do() -> None:
    body = plain_body(assignment(1), LINKS)
    for expected in ("Role: VP Engineering", "Size: 200-500", "Country: GB", "Territory EMEA", "Fit 82", "pricing"):
        assert expected in body
    assert "Status: customer" in body and "Owner: Olga Owner" in body
    assert "https://app.hubspot.com/contacts/62515001/record/0-1/1001" in body
    assert "https://cal.example.com/rita" in body


def test_hostile_values_are_escaped_in_html_and_bounded_everywhere() -> None:
    item = assignment(1, name=HOSTILE["html"], company=HOSTILE["huge"], why=(HOSTILE["control"],))
    html = html_body(item, LINKS)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert len(html) < 10_000
    assert len(task_subject(item, TemplatesConfig())) <= 255


def test_only_plain_http_links_are_kept() -> None:
    assert safe_url("https://cal.example.com/rita") == "https://cal.example.com/rita"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url('https://x.io/"><script>') is None
