from pathlib import Path

import pytest

from connector.config import load_config, parse_config
from connector.errors import ConfigError


def test_minimal_file_is_valid_and_versioned():
    loaded = parse_config("database: /tmp/x.sqlite\n")
    assert str(loaded.config.database) == "/tmp/x.sqlite"
    assert len(loaded.version) == 12


def test_unknown_key_names_line_and_field(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("database: x.sqlite\nmatchng: {}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 2" in message and "matchng" in message


def test_broken_yaml_names_the_position(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("database: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line [12]"):
        load_config(path)


def test_environment_and_file_references(tmp_path):
    secret = tmp_path / "db_path"
    secret.write_text("/data/from-file.sqlite\n")
    loaded = parse_config(f"database: ${{file:{secret}}}\n")
    assert str(loaded.config.database) == "/data/from-file.sqlite"
    loaded = parse_config("database: ${DB_PATH}\n", environ={"DB_PATH": "/d/e.sqlite"})
    assert str(loaded.config.database) == "/d/e.sqlite"
    loaded = parse_config("database: ${NOPE:-/fallback.sqlite}\n", environ={})
    assert str(loaded.config.database) == "/fallback.sqlite"


def test_missing_environment_variable_is_a_clear_error():
    with pytest.raises(ConfigError, match="DB_PATH is not set") as err:
        parse_config("database: ${DB_PATH}\n", environ={})
    assert "database" in str(err.value)


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        parse_config("- a\n- b\n")


def test_a_reference_that_resolves_to_nothing_leaves_the_setting_unset():
    text = "analytics:\n  audit:\n    channel: ${REVOPS_CHANNEL:-}\n"
    assert parse_config(text, environ={}).config.analytics.audit.channel is None
    assert parse_config(text, environ={"REVOPS_CHANNEL": "  "}).config.analytics.audit.channel is None
    assert parse_config(text, environ={"REVOPS_CHANNEL": "C042"}).config.analytics.audit.channel == "C042"


def test_an_empty_api_key_is_refused_rather_than_accepted():
    text = "daemon:\n  route_api:\n    enabled: true\n    api_keys: ['${ROUTE_API_KEY:-}']\n"
    with pytest.raises(ConfigError, match=r"daemon\.route_api\.api_keys"):
        parse_config(text, environ={})


PRODUCTION_ENV = {
    "HUBSPOT_TOKEN": "pat-na1-test",
    "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "SALESFORCE_USERNAME": "integration@acme.example",
    "SMTP_PASSWORD": "smtp-secret",
    "LEADRELAY_WEBHOOK_SECRET": "hubspot-app-secret",
    "LEADRELAY_API_KEY": "route-key",
}


def test_the_production_example_is_valid_with_its_environment_and_secret_files(tmp_path):
    example = (Path(__file__).parents[1] / "config" / "production.example.yaml").read_text(encoding="utf-8")
    for name, value in {"salesforce_password": "sf-password", "slack_bot_token": "xoxb-test"}.items():
        (tmp_path / name).write_text(value + "\n", encoding="utf-8")
    path = tmp_path / "leadrelay.yaml"
    path.write_text(example.replace("/run/secrets/", f"{tmp_path}/"), encoding="utf-8")
    config = load_config(path, environ=PRODUCTION_ENV).config
    assert config.crms.hubspot.enabled and config.crms.salesforce.enabled
    assert config.crms.salesforce.password is not None
    assert config.crms.salesforce.password.get_secret_value() == "sf-password"
    assert config.crms.salesforce.consumer_key is None  # ${SALESFORCE_CONSUMER_KEY:-} unset: SOAP login, not OAuth
    assert config.analytics.audit.channel is None
    assert [rep.email for rep in config.routing.reps][:1] == ["alex.morgan@example.com"]
    missing = dict(PRODUCTION_ENV)
    del missing["LEADRELAY_WEBHOOK_SECRET"]
    with pytest.raises(ConfigError, match="LEADRELAY_WEBHOOK_SECRET is not set"):
        load_config(path, environ=missing)
