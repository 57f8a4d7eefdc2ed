"""The add-on's packaging, checked offline the way the Supervisor and the add-on linter would.

The linter's JSON schema (frenck/action-addon-linter) is read from the shared design folder beside
the checkout when it is there; the remaining checks need nothing but this repository.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from rtcc_gateway.addon_options import AddonOptions

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
SCHEMA_FILE = ROOT.parent / "shared" / "schemas" / "addon-config.schema.json"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"
SHEBANG = "#!/command/with-contenv bashio"
# Keys that widen what the add-on may do on the host or in Home Assistant: none of them is needed.
PRIVILEGED_KEYS = (
    "host_network",
    "host_ipc",
    "host_pid",
    "host_uts",
    "host_dbus",
    "privileged",
    "full_access",
    "devices",
    "udev",
    "usb",
    "uart",
    "gpio",
    "devicetree",
    "kernel_modules",
    "docker_api",
    "hassio_api",
    "hassio_role",
    "homeassistant_api",
    "auth_api",
    "audio",
    "video",
    "realtime",
    "journald",
)
# Discovery and the add-on's own info are open to every add-on (Supervisor api/security.py,
# ADDONS_API_BYPASS), so the add-on needs no API role for them.


def load_config() -> dict[str, Any]:
    data = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def linter_schema() -> dict[str, Any]:
    if not SCHEMA_FILE.is_file():
        reason = f"the add-on linter's schema is not at {SCHEMA_FILE} (../shared is absent)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


# --- config.yaml ---------------------------------------------------------------------------------


def test_config_yaml_matches_the_linter_schema() -> None:
    schema = linter_schema()
    jsonschema.validate(load_config(), schema, format_checker=jsonschema.FormatChecker())


def test_no_key_is_set_to_its_default() -> None:
    properties = linter_schema()["properties"]
    at_default = [
        key
        for key, value in load_config().items()
        if "default" in properties.get(key, {}) and properties[key]["default"] == value
    ]
    assert at_default == [], f"the linter errors on keys at their default: {at_default}"


def test_identity_and_architectures() -> None:
    config = load_config()
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["slug"] == "rtcc_share"
    assert config["version"] == root["project"]["version"]
    assert config["arch"] == ["aarch64", "amd64"]
    assert config["init"] is False
    assert config["url"].startswith("https://")
    assert config["discovery"] == ["rtcc_share"]
    assert "image" not in config, "no published image yet: the Supervisor builds the Dockerfile"


def test_least_privilege() -> None:
    config = load_config()
    assert [key for key in PRIVILEGED_KEYS if key in config] == []
    assert config.get("apparmor", True) is True, "AppArmor stays on (with apparmor.txt)"
    assert config["map"] == [{"type": "ssl", "read_only": True}]
    assert set(config["ports"]) == {"8443/tcp", "8554/tcp"}, "the owner port 8099 stays internal"
    assert config["ports"] == {"8443/tcp": 8443, "8554/tcp": 8554}
    assert set(config["ports_description"]) == set(config["ports"])
    for key in ("ingress", "webui", "panel_icon", "services", "environment"):
        assert key not in config


# A small model of the Supervisor's option schema language (supervisor/addons/options.py).
_TYPE = re.compile(
    r"^(?P<type>str|bool|int|float|email|url|port|password|match|list|device)"
    r"(?:\((?P<args>.*)\))?(?P<optional>\?)?$"
)


def check_option(value: Any, spec: Any, path: str) -> list[str]:
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [
            p for i, item in enumerate(value) for p in check_option(item, spec[0], f"{path}[{i}]")
        ]
    if isinstance(spec, dict):
        return check_mapping(value, spec, path)
    return check_scalar(value, spec, path)


def check_mapping(value: Any, spec: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected a mapping"]
    problems = [f"{path}.{k}: not in the schema" for k in value if k not in spec]
    for key, sub in spec.items():
        if key in value:
            problems += check_option(value[key], sub, f"{path}.{key}")
        elif not str(sub).endswith("?"):
            problems.append(f"{path}.{key}: required")
    return problems


def check_scalar(value: Any, spec: str, path: str) -> list[str]:
    match = _TYPE.match(spec)
    assert match, f"{path}: unknown schema type {spec!r}"
    kind, args = match["type"], match["args"]
    ok = {
        "str": lambda v: isinstance(v, str),
        "password": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "url": lambda v: isinstance(v, str) and re.match(r"^[a-z][a-z0-9+.-]*://[^/]+", v),
        "match": lambda v: isinstance(v, str) and re.fullmatch(args, v),
        "list": lambda v: v in args.split("|"),
    }[kind]
    if not ok(value):
        return [f"{path}: {value!r} is not {spec}"]
    if kind == "int" and args:
        low, _, high = args.partition(",")
        if (low and value < int(low)) or (high and value > int(high)):
            return [f"{path}: {value} out of range {args}"]
    return []


def test_options_validate_against_the_schema() -> None:
    config = load_config()
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema)
    # Options left null are the ones the homeowner must fill in before the first start.
    required_blank = sorted(k for k, v in options.items() if v is None)
    assert required_blank == ["base_url", "rtsp_base_url"]
    for key, spec in schema.items():
        if not str(spec).endswith("?") and not isinstance(spec, list | dict):
            assert key in options, f"{key}: required by the schema but has no default option"
    filled = {**options, "base_url": "https://home.example.net:8443"}
    filled["rtsp_base_url"] = "rtsps://home.example.net:8554"
    problems = [p for key, value in filled.items() for p in check_option(value, schema[key], key)]
    assert problems == []


def test_schema_model_rejects_what_the_supervisor_rejects() -> None:
    schema = load_config()["schema"]
    bad = [{"id": "Bad Id", "name": "x", "public_key": "k"}]
    assert check_option(bad, schema["agencies"], "agencies") != []
    assert check_option("loud", schema["log_level"], "log_level") != []
    assert check_option([{"id": "jpd", "name": "x"}], schema["agencies"], "agencies") != []


def test_option_defaults_match_the_converter() -> None:
    options = load_config()["options"]
    assert options["certfile"] == AddonOptions.__dataclass_fields__["certfile"].default
    assert options["keyfile"] == AddonOptions.__dataclass_fields__["keyfile"].default
    assert options["insecure_http"] is False
    assert options["log_level"] == "info"
    for key in ("paused", "approval_timeout_minutes"):
        assert options[key] == AddonOptions.__dataclass_fields__[key].default, key
    assert options["privacy_windows"] == []


# --- the package -------------------------------------------------------------------------------


def test_addon_pyproject_builds_the_same_gateway() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    addon = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert addon["name"] == "rtcc-gateway"
    assert addon["version"] == root["version"]
    assert addon["dependencies"] == root["dependencies"]
    assert addon["scripts"] == root["scripts"]
    assert addon["requires-python"] == root["requires-python"]


# --- s6-overlay services -------------------------------------------------------------------------


def services() -> dict[str, str]:
    return {
        d.name: (d / "type").read_text(encoding="utf-8").strip()
        for d in S6.iterdir()
        if d.is_dir() and (d / "type").exists()
    }


def test_s6_services_are_complete() -> None:
    found = services()
    # The `user` bundle itself comes with the base image; the add-on adds its services to it.
    assert found == {"rtcc-gateway": "longrun", "rtcc-discovery": "oneshot"}
    in_user = {p.name for p in (S6 / "user" / "contents.d").iterdir()}
    assert in_user == {"rtcc-gateway", "rtcc-discovery"}
    assert (S6 / "rtcc-gateway" / "run").is_file()
    assert (S6 / "rtcc-gateway" / "finish").is_file()
    assert (S6 / "rtcc-discovery" / "dependencies.d" / "rtcc-gateway").exists()
    up = (S6 / "rtcc-discovery" / "up").read_text(encoding="utf-8").strip()
    assert up == "/etc/s6-overlay/s6-rc.d/rtcc-discovery/run"


def scripts() -> list[Path]:
    return sorted(p for p in S6.glob("*/*") if p.name in {"run", "finish"})


def test_run_scripts_are_executable_bashio_scripts() -> None:
    found = scripts()
    assert [p.relative_to(S6).as_posix() for p in found] == [
        "rtcc-discovery/run",
        "rtcc-gateway/finish",
        "rtcc-gateway/run",
    ]
    for path in found:
        assert path.stat().st_mode & 0o111 == 0o111, f"{path.name} is not executable"
        assert path.read_text(encoding="utf-8").splitlines()[0] == SHEBANG
        assert b"\r\n" not in path.read_bytes()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_scripts_parse() -> None:
    for path in scripts():
        result = subprocess.run(
            ["bash", "-n", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{path}: {result.stderr}"


def test_run_script_builds_the_configuration_and_serves_it() -> None:
    text = (S6 / "rtcc-gateway" / "run").read_text(encoding="utf-8")
    assert "python3 -m rtcc_gateway.addon_options" in text
    for flag in ("--options", "--token-file", "--out"):
        assert flag in text
    assert "readonly TOKEN_FILE=/data/owner_token" in text
    assert "readonly CONFIG_FILE=/data/gateway.yaml" in text
    assert "umask 077" in text
    joined = text.replace("\\\n", " ")
    assert re.search(
        r"^exec env .* /command/s6-setuidgid \"\$\{RUN_USER\}\" rtcc-gateway ", joined, re.MULTILINE
    )
    assert "args=(serve --config" in text
    assert "-u SUPERVISOR_TOKEN" in text, "the gateway does not get the Supervisor's token"


def test_discovery_announces_host_port_and_token_without_logging_it() -> None:
    text = (S6 / "rtcc-discovery" / "run").read_text(encoding="utf-8")
    assert "http://supervisor/discovery" in text
    assert 'service: "rtcc_share"' in text
    assert "host: $host, port: $port, token:" in text
    assert "readonly OWNER_PORT=8099" in text
    assert "bashio::net.wait_for" in text
    # The token stays off command lines and out of bashio's trace output.
    assert "--rawfile token" in text
    assert "bashio::discovery" not in text
    assert "$(cat" not in text


# --- AppArmor, translations, documentation -------------------------------------------------------


def apparmor() -> str:
    return (ADDON / "apparmor.txt").read_text(encoding="utf-8")


def test_apparmor_profile_is_named_after_the_slug() -> None:
    text = apparmor()
    names = re.findall(r"^\s*profile (\S+) ", text, re.MULTILINE)
    assert names[0] == load_config()["slug"]
    assert "rtcc_gateway" in names
    assert text.count("{") == text.count("}")
    assert "/usr/local/bin/rtcc-gateway rcx -> rtcc_gateway," in text
    for program in ("/usr/local/bin/go2rtc", "/usr/bin/ffmpeg", "/usr/local/bin/python3*"):
        assert program in text
    assert "deny /ssl/** rwlkx," in text
    assert "/ssl/** r," in text


@pytest.mark.skipif(
    shutil.which("apparmor_parser") is None, reason="apparmor_parser is not installed"
)
def test_apparmor_profile_compiles() -> None:
    result = subprocess.run(
        ["apparmor_parser", "-Q", "-K", str(ADDON / "apparmor.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_translations_cover_every_option_and_port() -> None:
    config = load_config()
    english = yaml.safe_load((ADDON / "translations" / "en.yaml").read_text(encoding="utf-8"))
    assert set(english["configuration"]) == set(config["schema"])
    for key, text in english["configuration"].items():
        assert text["name"].strip(), key
        assert text["description"].strip(), key
    assert set(english["network"]) == set(config["ports"])


def test_docs_cover_every_option_and_the_build_arguments() -> None:
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    for key in load_config()["schema"]:
        assert f"`{key}`" in docs, key
    for needed in ("go2rtc/go.mod", "go2rtc/go.sum", "GO_IMAGE", "8443/tcp", "8554/tcp", "8099"):
        assert needed in docs
    for name in ("README.md", "CHANGELOG.md"):
        assert (ADDON / name).read_text(encoding="utf-8").strip()
    assert "## 0.1.0" in (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")


def test_repository_yaml_is_what_the_supervisor_reads() -> None:
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text(encoding="utf-8"))
    assert set(repository) == {"name", "url", "maintainer"}
    assert repository["url"].startswith("https://")
