"""RECORDER_ALERTMANAGER_URL and silence_poll: parsing, validation and masking."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from recorder.settings import SettingsError, load_settings


def test_unset_reads_no_silences() -> None:
    """Without RECORDER_ALERTMANAGER_URL there is no Alertmanager to ask."""
    settings = load_settings(environ={})
    assert settings.alertmanager_urls == []
    assert settings.silence_poll == timedelta(seconds=15)


def test_comma_separated_ha_list_keeps_its_order() -> None:
    """An HA pair is tried in the order given; spaces and trailing slashes are dropped."""
    settings = load_settings(
        environ={"RECORDER_ALERTMANAGER_URL": " http://am-0:9093/ , https://am-1:9093,"}
    )
    assert settings.alertmanager_urls == ["http://am-0:9093", "https://am-1:9093"]


@pytest.mark.parametrize("value", ["am-0:9093", "http://am-0:9093,ftp://am-1", ",, ,"])
def test_non_http_url_is_refused(value: str) -> None:
    """Each entry must be an http(s) base URL; the error names the setting."""
    with pytest.raises(SettingsError, match="alertmanager_url"):
        load_settings(environ={"RECORDER_ALERTMANAGER_URL": value})


def test_silence_poll_from_toml(tmp_path: Path) -> None:
    """silence_poll is a TOML duration."""
    config = tmp_path / "recorder.toml"
    config.write_text('silence_poll = "1m30s"\n')
    assert load_settings(environ={}, config_path=str(config)).silence_poll == timedelta(seconds=90)


@pytest.mark.parametrize("value", ["0s", "50ms", "soon"])
def test_silence_poll_too_short_or_garbled_is_refused(tmp_path: Path, value: str) -> None:
    """A zero or sub-100 ms poll would hammer Alertmanager; garbage is an error."""
    config = tmp_path / "recorder.toml"
    config.write_text(f'silence_poll = "{value}"\n')
    with pytest.raises(SettingsError, match="silence_poll"):
        load_settings(environ={}, config_path=str(config))


def test_credentials_in_the_url_are_masked() -> None:
    """check-config output never shows a password embedded in an Alertmanager URL."""
    settings = load_settings(
        environ={"RECORDER_ALERTMANAGER_URL": "http://u:s3cret@am-0:9093,http://am-1:9093"}
    )
    masked = settings.masked()["alertmanager_url"]
    assert "s3cret" not in masked
    assert masked == "http://u:***@am-0:9093,http://am-1:9093"
