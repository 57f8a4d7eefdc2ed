"""The add-on's image: the Dockerfile's base and architectures, and go2rtc built in it from the
pinned module with checksums on (nothing downloaded unchecked)."""

from __future__ import annotations

import re
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addon"


def dockerfile() -> str:
    return (ADDON / "Dockerfile").read_text(encoding="utf-8")


def test_dockerfile_base_image_and_architecture_switch() -> None:
    text = dockerfile()
    match = re.search(
        r"^ARG BUILD_FROM=ghcr\.io/home-assistant/base-python:3\.(\d+)-alpine3\.\d+$",
        text,
        re.MULTILINE,
    )
    assert match, "ARG BUILD_FROM=ghcr.io/home-assistant/base-python:3.X-alpine3.Y"
    assert int(match[1]) >= 13
    froms = re.findall(r"^FROM (.+)$", text, re.MULTILINE)
    assert froms == ["${GO_IMAGE} AS go2rtc", "${BUILD_FROM}"], (
        "a Go builder stage, then the add-on"
    )
    assert re.search(r"^ARG TARGETARCH$", text, re.MULTILINE)
    assert '"${TARGETARCH' in text
    assert re.search(r"^\s+amd64\)", text, re.MULTILINE)
    assert re.search(r"^\s+arm64\|aarch64\)", text, re.MULTILINE)


GO_MODULE = ADDON / "go2rtc"


def pinned_go2rtc() -> str:
    """The go2rtc version addon/go2rtc/go.mod requires (the one place that names it)."""
    found = re.search(
        r"^\s*github\.com/AlexxIT/go2rtc v(\d+\.\d+\.\d+)\b",
        (GO_MODULE / "go.mod").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert found, "addon/go2rtc/go.mod requires github.com/AlexxIT/go2rtc"
    return found[1]


def test_go2rtc_is_built_from_the_pinned_module_with_checksums_on() -> None:
    version = pinned_go2rtc()
    go_sum = (GO_MODULE / "go.sum").read_text(encoding="utf-8")
    assert f"github.com/AlexxIT/go2rtc v{version} h1:" in go_sum, "go.sum pins go2rtc's own hash"
    assert re.search(
        r"^tool github\.com/AlexxIT/go2rtc$", (GO_MODULE / "go.mod").read_text(), re.MULTILINE
    )
    text = dockerfile()
    assert "COPY go2rtc/go.mod go2rtc/go.sum ./" in text
    assert "GOFLAGS=-mod=readonly" in text
    assert "go build -trimpath -o /out/go2rtc github.com/AlexxIT/go2rtc" in text
    assert "COPY --from=go2rtc /out/go2rtc /usr/local/bin/go2rtc" in text
    for weakening in ("GONOSUMDB", "GONOSUMCHECK", "GOSUMDB=off", "GOINSECURE", "-mod=mod"):
        assert weakening not in text, f"{weakening}: checksum verification stays on"
    # No download that nothing checks: no curl/wget; the version lives in go.mod alone.
    assert not re.search(r"\b(curl|wget)\b", text)
    assert version not in text, "the Dockerfile reads go2rtc's version from go2rtc/go.mod"


def test_dockerfile_copies_only_what_exists() -> None:
    for line in re.findall(r"^COPY (?!--from=)(.+)$", dockerfile(), re.MULTILINE):
        *sources, _dest = line.split()
        for source in sources:
            assert (ADDON / source).exists(), f"COPY {source}: not in the build context addon/"
    ignored = (ADDON / ".dockerignore").read_text(encoding="utf-8")
    assert "__pycache__" in ignored
    assert "egg-info" in ignored
