"""strings.json, icons.json and services.yaml agree with the code (what hassfest would check)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "rtcc_share"


def load(name: str) -> dict[str, Any]:
    text = (INTEGRATION / name).read_text()
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def test_every_action_and_field_has_text_and_an_icon() -> None:
    services, strings, icons = load("services.yaml"), load("strings.json"), load("icons.json")
    assert set(services) == set(strings["services"]) == set(icons["services"])
    for name, spec in services.items():
        text = strings["services"][name]
        assert text["name"]
        assert text["description"]
        assert set(spec.get("fields", {})) == set(text.get("fields", {})), name


def test_every_translation_key_in_the_code_has_text() -> None:
    strings = load("strings.json")
    source = "\n".join(p.read_text() for p in INTEGRATION.glob("*.py"))
    keys = set(re.findall(r'translation_key="(\w+)"', source))
    keys |= set(re.findall(r'_error\(\s*"(\w+)"', source))
    exceptions = set(strings["exceptions"])
    issues = set(strings["issues"])
    selectors = set(strings["selector"])
    assert keys <= exceptions | issues | selectors, keys - exceptions - issues - selectors


def test_every_entity_has_a_name_and_an_icon() -> None:
    strings, icons = load("strings.json"), load("icons.json")
    source = "\n".join(p.read_text() for p in INTEGRATION.glob("*.py"))
    for platform, entities in strings["entity"].items():
        assert set(entities) == set(icons["entity"][platform]), platform
        for key, text in entities.items():
            assert text["name"], key
            assert f'"{key}"' in source, f"{platform}.{key} is not used"
