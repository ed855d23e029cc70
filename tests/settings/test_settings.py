"""Settings precedence, validation and masking."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from recorder.settings import SettingsError, load_settings, mask_url


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "recorder.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_match_the_contract() -> None:
    """With nothing set, the documented defaults apply."""
    s = load_settings(environ={})
    assert s.listen == "127.0.0.1:9470"
    assert s.database_url == "sqlite:///./recorder.db"
    assert s.prometheus_url is None
    assert s.correlate_by == ("group_key",)
    assert s.reopen_window == timedelta(minutes=10)
    assert s.body_limit == 16 * 1024 * 1024


def test_flag_beats_env_beats_file(tmp_path: Path) -> None:
    """Precedence is flag > environment > TOML file > default."""
    path = write(tmp_path, 'listen = "127.0.0.1:1111"\nreopen_window = "5m"\n')
    env = {"RECORDER_CONFIG": path, "RECORDER_LISTEN": "127.0.0.1:2222"}
    assert load_settings(environ=env).listen == "127.0.0.1:2222"
    assert load_settings(environ=env).reopen_window == timedelta(minutes=5)
    flagged = load_settings(environ=env, flags={"listen": "127.0.0.1:3333"})
    assert flagged.listen == "127.0.0.1:3333"


def test_unknown_file_key_is_an_error(tmp_path: Path) -> None:
    """A misspelt key fails loudly instead of being ignored."""
    path = write(tmp_path, 'reopen_windw = "5m"\n')
    with pytest.raises(SettingsError, match="reopen_windw: unknown setting"):
        load_settings(environ={}, config_path=path)


def test_unknown_nested_key_is_an_error(tmp_path: Path) -> None:
    """Unknown keys inside tables fail too."""
    path = write(tmp_path, '[sampling]\nintervall = "5s"\n')
    with pytest.raises(SettingsError, match=r"sampling\.intervall"):
        load_settings(environ={}, config_path=path)


def test_bad_duration_names_the_setting(tmp_path: Path) -> None:
    """A bad duration says which setting and what a good one looks like."""
    path = write(tmp_path, 'reopen_window = "ten minutes"\n')
    with pytest.raises(SettingsError, match=r"reopen_window.*15s, 10m"):
        load_settings(environ={}, config_path=path)


def test_secrets_in_file_are_refused(tmp_path: Path) -> None:
    """Tokens belong in the environment, never in the shared file."""
    path = write(tmp_path, 'api_token = "x"\n')
    with pytest.raises(SettingsError, match="secrets"):
        load_settings(environ={}, config_path=path)


def test_missing_config_file_says_so(tmp_path: Path) -> None:
    """A config path that does not exist is reported by name."""
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(environ={}, config_path=str(tmp_path / "nope.toml"))


def test_masked_settings_hide_secrets_and_passwords() -> None:
    """check-config output never shows a token or a database password."""
    s = load_settings(
        environ={
            "RECORDER_API_TOKEN": "tok-123",
            "RECORDER_PAGERDUTY_SECRET": "a,b",
            "RECORDER_DATABASE_URL": "postgresql://u:hunter2@db:5432/rec",
        }
    )
    masked = s.masked()
    text = repr(masked)
    assert "tok-123" not in text
    assert "hunter2" not in text
    assert masked["database_url"] == "postgresql://u:***@db:5432/rec"
    assert s.pagerduty_secrets == ["a", "b"]


def test_mask_url_leaves_passwordless_urls_alone() -> None:
    """URLs without a password are printed as they are."""
    assert (
        mask_url("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
    )


def test_example_config_loads() -> None:
    """deploy/recorder.example.toml is a valid configuration."""
    path = Path(__file__).resolve().parents[2] / "deploy" / "recorder.example.toml"
    s = load_settings(environ={}, config_path=str(path))
    assert {sig.name for sig in s.effective_signals()} >= {
        "error_rate",
        "error_count",
        "pool_in_use",
        "pool_max",
    }


def test_invalid_listen_and_database_url(tmp_path: Path) -> None:
    """Malformed listen addresses and database URLs are rejected with guidance."""
    with pytest.raises(SettingsError, match="host:port"):
        load_settings(environ={"RECORDER_LISTEN": "9470"})
    with pytest.raises(SettingsError, match="sqlite:///"):
        load_settings(environ={"RECORDER_DATABASE_URL": "mysql://x"})


def test_external_url_is_validated_and_used_as_public_url() -> None:
    """RECORDER_EXTERNAL_URL must be http(s); public_url falls back to the listen address."""
    s = load_settings(environ={"RECORDER_EXTERNAL_URL": "https://rec.example.com/"})
    assert s.public_url("http://ignored") == "https://rec.example.com"
    assert load_settings(environ={}).public_url() == "http://127.0.0.1:9470"
    with pytest.raises(SettingsError, match="external_url"):
        load_settings(environ={"RECORDER_EXTERNAL_URL": "rec.example.com"})


def test_figure_snapshot_restores_the_settings_that_shaped_the_figures() -> None:
    """Settings taken at resolution come back in force over later ones; the rest (listen,
    database) stays as configured now."""
    then = load_settings(
        environ={},
        flags={
            "slo_target": 0.999,
            "severity": {"critical": "SEV1"},
            "thresholds": {"outage_error_rate": 0.05},
            "sampling": {"interval": "30s", "recovery_tail": "5m"},
        },
    )
    now = load_settings(
        environ={"RECORDER_LISTEN": "127.0.0.1:9999"},
        flags={"slo_target": 0.95, "severity": {"page": "SEV2"}, "signals": []},
    )
    restored = now.with_figure_snapshot(then.figure_snapshot())
    assert restored.slo_target == 0.999
    assert restored.severity == {"critical": "SEV1"}
    assert restored.thresholds == then.thresholds
    assert restored.sampling == then.sampling
    assert restored.signals == then.signals
    assert restored.listen == "127.0.0.1:9999"
    assert now.with_figure_snapshot(None) is now


def test_recovery_tail_defaults_to_ten_minutes_and_refuses_negative() -> None:
    """`[sampling] recovery_tail` is 10m unless set; a negative tail is an error."""
    assert load_settings(environ={}).sampling.recovery_tail == timedelta(minutes=10)
    with pytest.raises(SettingsError, match="recovery_tail"):
        load_settings(environ={}, flags={"sampling": {"recovery_tail": -5}})


def test_a_frozen_setting_no_longer_accepted_keeps_the_current_one() -> None:
    """A snapshot naming a preset the recorder no longer ships (or holding garbage) never
    breaks a report: that setting keeps its current value, the others stay frozen."""
    now = load_settings(environ={}, flags={"slo_target": 0.95})
    snapshot = (
        '{"slo_target":0.999,"sampling":{"presets":["gone-preset"],"interval":30.0},'
        '"severity":{"critical":"SEV1"},"unknown_table":{"x":1}}'
    )
    restored = now.with_figure_snapshot(snapshot)
    assert restored.slo_target == 0.999
    assert restored.severity == {"critical": "SEV1"}
    assert restored.sampling == now.sampling
    assert now.with_figure_snapshot("not json") is now
    assert now.with_figure_snapshot("[1, 2]") is now
