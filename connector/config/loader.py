"""Load one YAML config file into the typed ``LeadrelayConfig``, or fail with file, line, field and reason.

Values may reference the environment, ``${HUBSPOT_TOKEN}`` or ``${HUBSPOT_TOKEN:-default}``, or a file,
``${file:/run/secrets/hubspot_token}`` (container secrets). References are resolved before validation so that
secrets never sit in the file itself; the resolved values live only in memory, typed as ``SecretStr``. A value that
resolves to nothing at all (``${SLACK_CHANNEL:-}`` with the variable unset or empty) is left unset, as if the key
were absent, so an optional setting is never switched on with an empty string.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connector.config.root import LeadrelayConfig
from connector.errors import ConfigError

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*|file:[^}]+)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config, where it came from, and a short version hash (recorded on each decision)."""

    config: LeadrelayConfig
    path: Path | None
    version: str


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, interpolate and validate ``path``; raises ConfigError naming file, line and field."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", path=str(file)) from exc
    return parse_config(text, source=str(file), environ=environ)


def parse_config(text: str, *, source: str = "<config>", environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Validate config ``text``; ``source`` names it in errors."""
    try:
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=source, field=where) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("the top level must be a mapping of sections", path=source)
    env = os.environ if environ is None else environ
    resolved = _interpolate(raw, env, source, ())
    try:
        config = LeadrelayConfig.model_validate(resolved)
    except ValidationError as exc:
        raise _explain(exc, root_node, source) from None
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return LoadedConfig(config=config, path=Path(source) if source != "<config>" else None, version=version)


def _interpolate(value: Any, env: Mapping[str, str], source: str, loc: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, source, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, source, (*loc, i)) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        resolved = _REFERENCE.sub(lambda m: _resolve(m, env, source, loc), value)
        return resolved if resolved.strip() else None
    return value


def _resolve(match: re.Match[str], env: Mapping[str, str], source: str, loc: tuple[Any, ...]) -> str:
    name, default = match.group("name"), match.group("default")
    field = _dotted(loc)
    if name.startswith("file:"):
        secret_path = Path(name[5:].strip())
        try:
            return secret_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read secret file {secret_path}: {exc.strerror}", path=source, field=field
            ) from exc
    if name in env:
        return env[name]
    if default is not None:
        return default
    raise ConfigError(f"environment variable {name} is not set", path=source, field=field)


def _explain(exc: ValidationError, root: yaml.Node | None, source: str) -> ConfigError:
    """Turn pydantic's errors into one message: each problem with its line and dotted field path."""
    lines = []
    first_field = None
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = _dotted(loc)
        first_field = first_field or field
        line = _line_of(root, loc)
        where = f"line {line}: " if line else ""
        lines.append(f"{where}{field or '(top level)'}: {error['msg']}")
    message = "invalid config:\n  " + "\n  ".join(lines)
    return ConfigError(message, path=source, field=None if len(lines) > 1 else first_field)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (pydantic may add non-YAML parts; stop there)."""
    best = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node, best = child, child.start_mark.line + 1
    return best
