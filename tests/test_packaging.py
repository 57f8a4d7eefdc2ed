"""What Home Assistant's hassfest, HACS and the add-on linter would check, done offline here."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "rtcc_share"
MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "codeowners",
    "config_flow",
    "dependencies",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "version",
    "zeroconf",
    "dhcp",
    "ssdp",
    "usb",
    "bluetooth",
    "homekit",
    "mqtt",
}
HACS_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
}


def test_manifest_is_what_hassfest_wants() -> None:
    raw = (INTEGRATION / "manifest.json").read_text()
    manifest = json.loads(raw)
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "keys after domain and name must be sorted"
    assert set(keys) <= MANIFEST_KEYS
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["documentation"].startswith("https://")
    assert isinstance(manifest["codeowners"], list)
    assert manifest["iot_class"] in {
        "assumed_state",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
        "calculated",
    }
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])


def test_imported_core_components_are_declared() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    declared = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    used: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else ([a.name for a in node.names] if isinstance(node, ast.Import) else [])
            )
            for name in names:
                parts = name.split(".")
                if parts[:2] == ["homeassistant", "components"] and len(parts) > 2:
                    used.add(parts[2])
    assert used <= declared, f"undeclared components: {sorted(used - declared)}"


def test_hacs_json_has_only_known_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert "name" in hacs
    assert set(hacs) <= HACS_KEYS
    assert [p.name for p in (ROOT / "custom_components").iterdir() if p.is_dir()] == ["rtcc_share"]


def _flatten(node: object, prefix: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        out: dict[str, str] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: str(node)}


def test_english_translation_matches_strings() -> None:
    strings = _flatten(json.loads((INTEGRATION / "strings.json").read_text()))
    english = _flatten(json.loads((INTEGRATION / "translations" / "en.json").read_text()))
    assert set(strings) == set(english)
    for key, text in strings.items():
        if not text.startswith("[%key:"):
            assert english[key] == text, key


def test_every_config_flow_error_has_text() -> None:
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    source = (INTEGRATION / "config_flow.py").read_text()
    used = set(re.findall(r'"(cannot_connect|invalid_auth|not_a_gateway|unknown)"', source))
    assert used <= set(strings["config"]["error"])
    aborts = set(re.findall(r'reason="(\w+)"', source)) | {
        "already_configured",
        "reauth_successful",
    }
    assert aborts <= set(strings["config"]["abort"])


def test_quality_scale_lists_every_rule_with_a_valid_status() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert len(rules) >= 50
    for name, value in rules.items():
        status = value["status"] if isinstance(value, dict) else value
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert value.get("comment"), f"{name}: an exemption needs a reason"


def test_the_manifest_claims_the_tier_the_rules_reach() -> None:
    """The manifest's quality_scale is the highest tier whose rules (and all below) are done."""
    text = (INTEGRATION / "quality_scale.yaml").read_text()
    tiers = ["bronze", "silver", "gold", "platinum"]
    reached = None
    rules = yaml.safe_load(text)["rules"]
    # The YAML groups rules under "# Bronze", "# Silver"... comments, in order.
    current = None
    tier_of: dict[str, str] = {}
    for line in text.splitlines():
        heading = line.strip().lstrip("#").strip().lower()
        if line.startswith("  # ") and heading in tiers:
            current = heading
        elif line.startswith("  ") and not line.startswith("    ") and ":" in line and current:
            tier_of[line.split(":", 1)[0].strip()] = current
    assert set(tier_of) == set(rules)
    for tier in tiers:
        open_rules = [
            n
            for n, v in rules.items()
            if tier_of[n] == tier and (v["status"] if isinstance(v, dict) else v) == "todo"
        ]
        if open_rules:
            break
        reached = tier
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    assert manifest["quality_scale"] == reached


def test_no_file_the_supervisor_would_take_for_an_add_on() -> None:
    names = {"config.yaml", "config.yml", "config.json"}
    strays = [
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("config.*")
        if p.name in names
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
        and "rootfs" not in p.parts
        and p.relative_to(ROOT).as_posix() != "addon/config.yaml"
    ]
    assert strays == []


@pytest.mark.parametrize("script", ["setup", "run", "test"])
def test_scripts_are_executable(script: str) -> None:
    assert (ROOT / "scripts" / script).stat().st_mode & 0o111
