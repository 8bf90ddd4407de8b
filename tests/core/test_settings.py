"""citypass/core/settings.py: defaults ← file ← variables ← flags into a frozen pydantic model,
and errors that name the variable, the file key or the flag, and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, ValidationError, model_validator

from citypass.core.settings import CommaList, FrozenSettings, load_settings

PREFIX = "CITYPASS_TEST_"


class SettingsError(Exception):
    """Stands in for a daemon's own error class."""


class Example(FrozenSettings):
    host: str = "127.0.0.1"
    port: int = 8080
    interval: float = 1.5
    follow: bool = True
    origins: CommaList = ()
    evidence_dir: Path | None = None
    password: str = Field(default="", repr=False)

    @model_validator(mode="after")
    def _check(self) -> Example:
        if self.interval <= 0:
            raise ValueError(f"{PREFIX}INTERVAL must be positive (seconds)")
        return self


def load(environ: dict[str, str], **kwargs) -> Example:
    return load_settings(Example, env_prefix=PREFIX, error=SettingsError, environ=environ, **kwargs)


def test_variables_are_coerced_and_flags_win():
    env = {
        f"{PREFIX}PORT": "9000",
        f"{PREFIX}FOLLOW": "no",
        f"{PREFIX}ORIGINS": "https://a, https://b",
    }
    settings = load(env, overrides={"host": "0.0.0.0", "interval": None, "origins": ()})
    assert (settings.host, settings.port, settings.interval) == ("0.0.0.0", 9000, 1.5)
    assert settings.follow is False and settings.origins == ("https://a", "https://b")
    with pytest.raises(ValidationError):
        settings.port = 1  # frozen


def test_an_empty_variable_counts_as_unset():
    assert load({f"{PREFIX}PORT": "", f"{PREFIX}EVIDENCE_DIR": ""}).port == 8080


def test_a_bad_value_names_the_variable_and_what_to_write():
    with pytest.raises(SettingsError) as refused:
        load({f"{PREFIX}PORT": "x", f"{PREFIX}FOLLOW": "maybe"})
    assert str(refused.value) == (
        f"{PREFIX}PORT='x' is not a valid integer (like 8080); "
        f"{PREFIX}FOLLOW='maybe' is not a valid boolean (true or false)"
    )


def test_a_rule_across_settings_keeps_its_own_message():
    with pytest.raises(SettingsError, match=f"^{PREFIX}INTERVAL must be positive"):
        load({f"{PREFIX}INTERVAL": "0"})


def test_a_file_is_read_below_the_variables_and_its_mistakes_are_named(tmp_path):
    config = tmp_path / "test.toml"
    config.write_text('[test]\nport = 9001\nhost = 127\nevidence-dir = ""\n')
    settings = load({f"{PREFIX}PORT": "9002"}, config_file=config, file_section="test")
    assert (settings.port, settings.host, settings.evidence_dir) == (9002, "127", None)
    config.write_text("port = true\ncolour = 'blue'\n")
    with pytest.raises(SettingsError) as refused:
        load({}, config_file=config, file_section="test")
    assert f"port = True in {config}: a boolean is not a number" in str(refused.value)
    assert f"unknown setting colour = 'blue' in {config}; known: evidence_dir" in str(refused.value)
    config.write_text("port = [")
    with pytest.raises(SettingsError, match="is not valid TOML/YAML"):
        load({}, config_file=config)


def test_a_yaml_file_works_too_and_a_missing_file_is_named(tmp_path):
    config = tmp_path / "test.yaml"
    config.write_text("port: 9003\n")
    assert load({}, config_file=config).port == 9003
    with pytest.raises(SettingsError, match="cannot read the config file .*nope.yaml"):
        load({}, config_file=tmp_path / "nope.yaml")


def test_a_secret_is_never_repeated_in_a_message_or_the_repr():
    settings = load({f"{PREFIX}PASSWORD": "hunter2-hunter2"})
    assert settings.password == "hunter2-hunter2" and "hunter2" not in repr(settings)
    with pytest.raises(SettingsError) as refused:
        load({}, overrides={"password": 12.5j})
    assert str(refused.value) == "--password (hidden) is not a valid text"


def test_the_api_settings_name_the_variable():
    from api.errors import SettingsError as ApiSettingsError
    from api.settings import Settings

    with pytest.raises(ApiSettingsError, match="^CITYPASS_API_PORT='x' is not a valid integer"):
        Settings.from_env({"CITYPASS_API_PORT": "x"})
