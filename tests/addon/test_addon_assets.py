"""What the add-on store and HACS show and run besides config.yaml: the run scripts (shellcheck),
the add-on's icon and logo, the integration's brand, hacs.json and the documentation's promises."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from PIL import Image
from rtcc_gateway.addon_options import parse_options

from .test_addon_config import check_option

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"
BRAND = ROOT / "custom_components" / "rtcc_share" / "brand"


def run_scripts() -> list[Path]:
    return sorted(p for p in S6.glob("*/*") if p.name in {"run", "finish"})


def test_run_scripts_pass_shellcheck() -> None:
    exe = shutil.which("shellcheck")
    if exe is None:
        reason = "shellcheck is not installed (scripts/setup installs it from Debian)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    scripts = run_scripts()
    assert len(scripts) == 3
    result = subprocess.run(
        [exe, "--shell=bash", "--severity=style", "--format=gcc", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    image = Image.open(path)
    image.load()  # a truncated or corrupt file fails here
    return image


def test_addon_icon_is_the_stores_128_pixel_square() -> None:
    icon = png(ADDON / "icon.png")
    assert icon.size == (128, 128)
    assert icon.mode == "RGBA"
    colors = icon.getcolors(maxcolors=128 * 128)
    assert colors is not None
    assert len(colors) > 16, "a real picture, not a flat square"


def test_addon_logo_is_wide_and_about_250_by_100() -> None:
    logo = png(ADDON / "logo.png")
    width, height = logo.size
    assert 200 <= width <= 300
    assert 80 <= height <= 120
    assert width > height


def test_brand_icons_for_hacs_and_home_assistant() -> None:
    assert png(BRAND / "icon.png").size == (256, 256)
    assert png(BRAND / "icon@2x.png").size == (512, 512)


def test_hacs_json_names_the_home_assistant_the_integration_needs() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert hacs["name"] == "RTCC Share"
    assert hacs["render_readme"] is True
    year, month, _ = (int(part) for part in hacs["homeassistant"].split("."))
    assert (year, month) >= (2026, 10), "the integration is tested on Home Assistant 2026.10"
    manifest = json.loads(
        (ROOT / "custom_components" / "rtcc_share" / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["name"] == hacs["name"]


def test_repository_yaml_names_this_repository() -> None:
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))
    assert config["url"].startswith(repository["url"] + "/")
    assert repository["name"].strip()
    assert "<" in repository["maintainer"], "maintainer: a name and <contact>"


def test_docs_say_how_the_image_was_checked() -> None:
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    assert "## How the image was checked" in docs
    section = docs.split("## How the image was checked", 1)[1].split("\n## ", 1)[0]
    for promise in ("shellcheck", "linter", "Dockerfile", "icon.png", "logo.png", "AppArmor"):
        assert promise in section, promise
    # Each promise is kept by a test in this folder.
    tests = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    for kept_by in (
        "test_run_scripts_pass_shellcheck",
        "test_config_yaml_matches_the_linter_schema",
        "test_go2rtc_is_built_from_the_pinned_module_with_checksums_on",
        "test_apparmor_profile_is_named_after_the_slug",
        "test_addon_icon_is_the_stores_128_pixel_square",
    ):
        assert f"def {kept_by}(" in tests, kept_by


def test_the_documented_options_example_is_valid() -> None:
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    section = docs.split("## Options", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "DOCS.md shows the options as a yaml block under ## Options"
    example = yaml.safe_load(match[1])
    schema = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))["schema"]
    assert set(example) == set(schema), "the example shows every option"
    problems = [p for key, value in example.items() for p in check_option(value, schema[key], key)]
    assert problems == [], "the Supervisor would refuse the example"
    parse_options(example)  # and so would the converter, naming the option
