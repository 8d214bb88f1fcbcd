import pytest

from connector.config import parse_config
from connector.config.matching import MatchingConfig
from connector.errors import ConfigError


def test_defaults():
    config = MatchingConfig()
    assert config.min_confidence == 0.8
    assert config.tie_breakers == ("customer", "open_opportunity", "recent_activity", "most_contacts")
    assert config.parent_policy == "route_to_matching_child"


def test_matching_section_from_yaml():
    text = """
matching:
  min_confidence: 0.9
  parent_policy: roll_up_to_parent
  tie_breakers: [open_opportunity, customer]
  free_mail_add: [Partner-Mail.COM]
  free_mail_remove: [gmail.com]
"""
    config = parse_config(text).config.matching
    assert config.min_confidence == 0.9
    assert config.parent_policy == "roll_up_to_parent"
    assert config.tie_breakers == ("open_opportunity", "customer")
    assert config.free_mail_add == ("partner-mail.com",)


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("matching:\n  min_confidence: 1.5\n", "matching.min_confidence"),
        ("matching:\n  parent_policy: nearest\n", "matching.parent_policy"),
        ("matching:\n  tie_breakers: [customer, revenue]\n", "matching.tie_breakers"),
        ("matching:\n  tie_breakers: [customer, customer]\n", "matching"),
        ("matching:\n  free_mail_add: [not a domain]\n", "matching.free_mail_add"),
        ("matching:\n  threshold: 0.5\n", "matching.threshold"),
    ],
)
def test_bad_matching_config_names_the_field(yaml_text, field):
    with pytest.raises(ConfigError) as err:
        parse_config(yaml_text, source="rules.yaml")
    assert field in str(err.value)
    assert "line 2" in str(err.value) or "line 1" in str(err.value)
