"""Settings from the environment, an optional TOML/YAML file and CLI flags, into one frozen
pydantic model per daemon: later sources win (defaults, file, `PREFIX_FIELD` variables, flags).

Why not pydantic-settings: every 2.x release needs python-dotenv >= 0.21 while eth-brownie
1.22.2 pins python-dotenv==0.16.0, and the tests import the services and brownie in one
interpreter. So this loader gathers the raw values itself and leaves the coercion and the rules
to pydantic (field types, the models' validators), then turns a ValidationError into the daemon's
own error class with a message that names where the value came from and what to write.

Conventions: an empty variable counts as unset; a flag given as None (or as the empty tuple of a
repeatable click option) means "not given"; a list setting may be written comma-separated."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo

S = TypeVar("S", bound="FrozenSettings")


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list | tuple):
        return tuple(str(item).strip() for item in value if str(item).strip())
    return value


# A tuple setting, written "a,b,c" in a variable (a list in a file).
CommaList = Annotated[tuple[str, ...], BeforeValidator(_split_commas)]
CommaPaths = Annotated[tuple[Path, ...], BeforeValidator(_split_commas)]


class FrozenSettings(BaseModel):
    """The base of every daemon's settings: immutable, no unknown names, numbers in a text
    setting kept as text (a TOML `host = 127` is "127"), never a boolean for a number, and ""
    for an optional setting is None."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = cls.model_fields[str(info.field_name)].annotation
        if isinstance(value, bool) and annotation in (int, float):
            raise ValueError("a boolean is not a number")
        if value == "" and type(None) in get_args(annotation):
            return None
        return value


def load_settings(
    model: type[S],
    *,
    env_prefix: str,
    error: type[Exception],
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    file_section: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> S:
    """`model` from its defaults, then `config_file` (its `[file_section]` table, or the top
    level), then `env_prefix + NAME` variables, then `overrides`; validated by the model.

    Raises `error` with one line per problem, each naming the variable, file key or flag."""
    raw: dict[str, Any] = {}
    # field → the text around its value in a message: ("CITYPASS_API_PORT=", "")
    origin: dict[str, tuple[str, str]] = {}
    if config_file is not None:
        for name, value in read_settings_file(config_file, file_section, error).items():
            raw[name], origin[name] = value, (f"{name} = ", f" in {config_file}")
    env = os.environ if environ is None else environ
    for name in model.model_fields:
        variable = env_prefix + name.upper()
        if env.get(variable):
            raw[name], origin[name] = env[variable], (f"{variable}=", "")
    for name, value in (overrides or {}).items():
        if value is not None and value != ():
            raw[name], origin[name] = value, (f"--{name.replace('_', '-')} ", "")
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        problems = [_describe(model, item, raw, origin) for item in exc.errors()]
        raise error("; ".join(problems)) from None


def read_settings_file(path: Path, section: str | None, error: type[Exception]) -> dict[str, Any]:
    """The settings table of a TOML (`.toml`) or YAML file; dashes in keys become underscores."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"cannot read the config file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise error(f"the config file {path} is not valid TOML/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"the config file {path} must hold a table of settings")
    if section is not None and isinstance(data.get(section), dict):
        data = data[section]
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def _describe(
    model: type[BaseModel], item: Any, raw: Mapping[str, Any], origin: Mapping[str, tuple[str, str]]
) -> str:
    if not item["loc"]:
        # A rule across settings (a model validator): its message already says what to fix.
        return str(item.get("ctx", {}).get("error", item["msg"]))
    name = str(item["loc"][0])
    field = model.model_fields.get(name)
    shown = repr(raw.get(name)) if field is None or field.repr else "(hidden)"  # a password
    before, after = origin.get(name, (f"{name}=", ""))
    where = f"{before}{shown}{after}"
    if field is None:
        return f"unknown setting {where}; known: {', '.join(sorted(model.model_fields))}"
    if item["type"] == "value_error":  # a field validator's own words
        return f"{where}: {item.get('ctx', {}).get('error', item['msg'])}"
    return f"{where} is not a valid {_expected(field)}"


def _expected(field: FieldInfo) -> str:
    """What to write instead, from the field's type and default: "integer (like 8080)"."""
    kinds = {int: "integer", float: "number", bool: "boolean (true or false)", str: "text"}
    args = [a for a in get_args(field.annotation) if a is not type(None)]
    annotation = args[0] if len(args) == 1 else field.annotation
    if annotation in kinds:
        kind = kinds[annotation]
    elif annotation is Path:
        kind = "path"
    else:
        kind = "comma-separated list"
    example = field.default
    if annotation in (int, float) and example:
        kind += f" (like {example})"
    return kind
