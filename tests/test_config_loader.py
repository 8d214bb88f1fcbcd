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
