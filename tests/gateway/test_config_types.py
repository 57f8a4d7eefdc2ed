"""The configuration's typed values: defaults from limits.py, and secrets kept out of reprs."""

from __future__ import annotations

from typing import Any

from rtcc_gateway.config import parse_config
from rtcc_gateway.config_types import Camera, ConfigError, Location, Policy
from rtcc_gateway.limits import APPROVAL_TIMEOUT_DEFAULT_S, CAMERA_DEFAULT_MAX_S


def test_defaults_are_the_documented_limits() -> None:
    camera = Camera(id="c", label="C", source="rtsp://cam/s", location=Location(0, 0))
    assert camera.max_duration_s == CAMERA_DEFAULT_MAX_S
    assert (camera.consent, camera.approval, camera.share_audio) == (False, "ask", False)
    assert Policy(timezone="America/Chicago").approval_timeout_s == APPROVAL_TIMEOUT_DEFAULT_S


def test_a_parsed_file_gets_the_same_defaults(config_dict: dict[str, Any]) -> None:
    config = parse_config(config_dict)
    assert config.policy.approval_timeout_s == APPROVAL_TIMEOUT_DEFAULT_S
    assert config.cameras[0].max_duration_s == CAMERA_DEFAULT_MAX_S


def test_secrets_stay_out_of_reprs(config_dict: dict[str, Any]) -> None:
    config = parse_config(config_dict)
    text = repr(config)
    assert config.owner.token not in text
    assert config.cameras[0].source not in text
    assert repr(config.agencies[0].public_key) not in text


def test_a_config_error_lists_every_problem() -> None:
    err = ConfigError(
        ["owner.token: must be at least 16 characters", "policy: required field is missing"]
    )
    assert str(err).splitlines() == err.problems
