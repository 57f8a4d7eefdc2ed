"""The automation blueprints, loaded through Home Assistant's blueprint schema and run in it.

Each test makes an automation from a blueprint with inputs, triggers it the way the world would
(a time of day, a city request, a tap on the phone, someone coming home, a viewer at the door),
and checks what the gateway did.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)
from rtcc_gateway.app import Bound, Gateway

from custom_components.rtcc_share.const import BUS_EVENTS, DOMAIN

from ..peers.camera import camera_available, run_camera
from ..peers.rtsp_client import play
from .conftest import CityCall, Loaded, cam, wait_for
from .phone import NOTIFICATION_ACTION_EVENT, Phone, register_phone
from .test_event import consent

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = ROOT / "blueprints" / "automation" / "rtcc_share"
REPO_URL = "https://github.com/rtcc-share/rtcc_share/blob/main/"
ALL = sorted(BLUEPRINTS.glob("*.yaml"))


def blueprint(name: str) -> Blueprint:
    """A blueprint file, through Home Assistant's own schema (raises on any mistake)."""
    return Blueprint(
        load_yaml_dict(str(BLUEPRINTS / name)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


Automations = Callable[..., Coroutine[Any, Any, None]]


@pytest.fixture
async def automations(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Automations]:
    """Make automations from blueprints (name, inputs), as the UI stores them; turned off at the
    end (a time trigger's timer would outlive the test otherwise)."""

    async def make(*uses: tuple[str, Any]) -> None:
        hass.config.config_dir = str(tmp_path)
        target = tmp_path / "blueprints" / "automation" / "rtcc_share"
        target.mkdir(parents=True, exist_ok=True)
        config = []
        for index, (name, inputs) in enumerate(uses):
            blueprint(name)
            shutil.copy(BLUEPRINTS / name, target / name)
            config.append(
                {
                    "id": f"bp_{index}",
                    "alias": f"{name.removesuffix('.yaml')} {index}",
                    "use_blueprint": {"path": f"rtcc_share/{name}", "input": inputs},
                }
            )
        assert await async_setup_component(hass, "automation", {"automation": config})
        await hass.async_block_till_done()
        for index, (name, _) in enumerate(uses):
            state = hass.states.get(f"automation.{name.removesuffix('.yaml')}_{index}")
            assert state is not None, f"{name}: Home Assistant made no automation from it"
            assert state.state == "on", f"{name}: the automation is {state.state}"

    yield make
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {ATTR_ENTITY_ID: "all"}, blocking=True
        )
        await hass.async_block_till_done()


async def approved_share(hass: HomeAssistant, city: CityCall, **request: Any) -> str:
    """A live share of the front door: consent on, a city request, approved by the owner."""
    await consent(hass)
    status, body = await city(**request)
    assert status == 202, body
    await hass.services.async_call(
        DOMAIN, "approve", {"request_id": body["request_id"]}, blocking=True
    )
    return str(body["request_id"])


def live_cameras(gw: Gateway) -> list[str]:
    return [str(share["camera_id"]) for share in gw.owner_state()["shares"]]


# --- every blueprint -----------------------------------------------------------------------------


def test_there_are_the_four_blueprints() -> None:
    assert [p.name for p in ALL] == [
        "ask_before_sharing.yaml",
        "notify_when_watching.yaml",
        "pause_at_night.yaml",
        "revoke_when_home.yaml",
    ]


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_blueprint_metadata(path: Path) -> None:
    meta = blueprint(path.name).metadata
    assert meta["source_url"] == REPO_URL + path.relative_to(ROOT).as_posix()
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert meta["homeassistant"]["min_version"] == hacs["homeassistant"], "as the integration"
    assert meta["name"].startswith("RTCC Share — ")
    assert meta["description"].strip()
    for key, spec in meta["input"].items():
        assert spec.get("name"), f"{key}: no name"
        assert spec.get("description"), f"{key}: no description"
        assert isinstance(spec.get("selector"), dict), f"{key}: no selector"


def test_every_event_and_action_a_blueprint_names_exists() -> None:
    services_yaml = load_yaml_dict(str(ROOT / "custom_components" / DOMAIN / "services.yaml"))
    services = {f"{DOMAIN}.{name}" for name in services_yaml}
    events = set(BUS_EVENTS.values())
    for path in ALL:
        text = path.read_text(encoding="utf-8")
        for action in {w.strip('"') for w in text.split() if w.startswith(f"{DOMAIN}.")}:
            assert action in services, f"{path.name}: {action} is not an action of the integration"
        for word in text.split():
            if word.startswith(f"{DOMAIN}_"):
                assert word in events, f"{path.name}: {word} is not an event of the integration"


# --- pause sharing every night -------------------------------------------------------------------


# Time frozen (ticking) from before Home Assistant starts, as in test_services.
@pytest.mark.freeze_time(tick=True)
async def test_pause_at_night_pauses_until_the_morning(
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    freezer: FrozenDateTimeFactory,
    automations: Automations,
) -> None:
    entry, gw, _ = loaded
    start = (dt_util.now() + timedelta(hours=1)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=8, minutes=30)
    await automations(
        (
            "pause_at_night.yaml",
            {
                "gateway": entry.entry_id,
                "start_time": start.strftime("%H:%M:%S"),
                "end_time": end.strftime("%H:%M:%S"),
            },
        ),
    )
    assert gw.owner_state()["paused"] is False

    freezer.move_to(start)
    async_fire_time_changed(hass, start)
    await wait_for(lambda: gw.owner_state()["paused"])
    until = dt_util.parse_datetime(gw.owner_state()["policy"]["paused_until"])
    assert until is not None
    # Paused for the rest of the night: from the trigger (at or after `start`) until `end`.
    assert end <= until <= end + (dt_util.utcnow() - start) + timedelta(seconds=1)
    assert hass.states.get("switch.rtcc_share_pause_sharing").state == "on"


# --- ask me on my phone first --------------------------------------------------------------------


@pytest.fixture
async def phone(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> Phone:
    return await register_phone(hass, hass_client, hass_ws_client)


async def ask_on_phone(
    hass: HomeAssistant, automations: Automations, phone: Phone, **inputs: Any
) -> None:
    """The ask-before-sharing automation notifying `phone`, with consent on for a camera."""
    await automations(("ask_before_sharing.yaml", {"notify_device": phone.device_id, **inputs}))
    await consent(hass)


@pytest.fixture
async def asking(
    hass: HomeAssistant, loaded: Loaded, automations: Automations, phone: Phone
) -> Phone:
    """The phone the ask-before-sharing automation (default inputs) notifies; after `loaded`,
    as consent needs the entry."""
    await ask_on_phone(hass, automations, phone)
    return phone


def test_ask_waits_for_the_companion_apps_tap_event() -> None:
    actions = blueprint("ask_before_sharing.yaml").data["actions"]
    waits = next(step["wait_for_trigger"] for step in actions if "wait_for_trigger" in step)
    assert {w["event_type"] for w in waits} == {NOTIFICATION_ACTION_EVENT}


async def test_tapping_approve_shares_and_deny_declines(
    hass: HomeAssistant, loaded: Loaded, city: CityCall, asking: Phone
) -> None:
    _, gw, _ = loaded
    _, body = await city()
    note = await asking.next_notification()
    assert note["title"] == "Jackson Police Department asks for live video"
    assert "burglary (JPD-2026-001234)" in note["message"]
    assert "Suspect seen leaving towards the street" in note["message"]
    assert "camera.front_door" in note["message"]
    approve, deny = (button["action"] for button in note["data"]["actions"])
    assert approve == f"RTCC_APPROVE_{body['request_id']}"
    assert deny == f"RTCC_DENY_{body['request_id']}"
    assert gw.owner_state()["shares"] == [], "nothing is shared before the tap"
    await asking.tap(approve)
    await wait_for(lambda: live_cameras(gw) == [cam(hass, "front_door")])

    _, body = await city(incident_id="JPD-2026-000002")
    note = await asking.next_notification()
    assert "JPD-2026-000002" in note["message"]
    deny = note["data"]["actions"][1]["action"]
    assert deny == f"RTCC_DENY_{body['request_id']}"
    await asking.tap(deny)
    await wait_for(lambda: not gw.owner_state()["pending_requests"])
    assert live_cameras(gw) == [cam(hass, "front_door")], "the denied request shared nothing"


async def test_a_tap_for_another_request_does_nothing(
    loaded: Loaded, city: CityCall, asking: Phone
) -> None:
    _, gw, _ = loaded
    await city()
    note = await asking.next_notification()
    # An Approve of some other request, then this request's Deny: taps are handled in order,
    # so had the first one approved this request, a share would be live now.
    await asking.tap("RTCC_APPROVE_req_someone_else")
    await asking.tap(note["data"]["actions"][1]["action"])
    await wait_for(lambda: not gw.owner_state()["pending_requests"])
    assert gw.owner_state()["shares"] == []


@pytest.mark.freeze_time(tick=True)
async def test_no_tap_in_time_leaves_the_request_to_the_gateways_timeout(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    city: CityCall,
    phone: Phone,
    automations: Automations,
    freezer: FrozenDateTimeFactory,
) -> None:
    _, gw, _ = loaded
    await ask_on_phone(hass, automations, phone, answer_timeout={"minutes": 2})
    _, body = await city()
    note = await phone.next_notification()
    later = dt_util.utcnow() + timedelta(minutes=2, seconds=1)
    freezer.move_to(later)
    async_fire_time_changed(hass, later)
    await hass.async_block_till_done()  # the automation's wait is over, so this returns
    # Too late: the automation stopped waiting, so the tap approves nothing; the request waits
    # for the gateway's own approval timeout (it declines it then).
    await phone.tap(note["data"]["actions"][0]["action"])
    await hass.async_block_till_done()
    assert [r["request_id"] for r in gw.owner_state()["pending_requests"]] == [body["request_id"]]
    assert gw.owner_state()["shares"] == []


# --- revoke everything when someone comes home or the alarm is disarmed --------------------------

PERSON = "person.alex"
ALARM = "alarm_control_panel.house"


def arrive(hass: HomeAssistant) -> None:
    hass.states.async_set(PERSON, "home")


def disarm(hass: HomeAssistant) -> None:
    hass.states.async_set(ALARM, "disarmed")


@pytest.mark.parametrize(
    ("revoke_when", "ignored", "revoking"),
    [
        ("someone_home", [disarm], [arrive]),
        ("alarm_disarmed", [arrive], [disarm]),
        ("either", [], [arrive, disarm]),
    ],
)
async def test_revoke_when_home(  # noqa: PLR0917 - fixtures and parameters
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    city: CityCall,
    automations: Automations,
    revoke_when: str,
    ignored: list[Any],
    revoking: list[Any],
) -> None:
    entry, gw, _ = loaded
    hass.states.async_set(PERSON, "not_home")
    hass.states.async_set(ALARM, "armed_away")
    ended = async_capture_events(hass, BUS_EVENTS["share_ended"])
    inputs = {
        "gateway": entry.entry_id,
        "revoke_when": revoke_when,
        "people": [PERSON],
        "alarm_panel": [ALARM],
    }
    await automations(("revoke_when_home.yaml", inputs))

    for number, happening in enumerate(revoking):
        await approved_share(hass, city, incident_id=f"JPD-2026-00000{number}")
        await wait_for(lambda: live_cameras(gw) == [cam(hass, "front_door")])
        for other in ignored:
            other(hass)
            await hass.async_block_till_done()
            assert live_cameras(gw) == [cam(hass, "front_door")], f"{other.__name__} revoked"
        happening(hass)
        await wait_for(lambda: gw.owner_state()["shares"] == [])
        await wait_for(lambda n=number: len(ended) == n + 1)
        assert ended[-1].data["end_reason"] == "revoked"
        hass.states.async_set(PERSON, "not_home")
        hass.states.async_set(ALARM, "armed_away")
        await hass.async_block_till_done()


# --- tell me when someone starts watching --------------------------------------------------------


@pytest.fixture(scope="module")
def camera_url() -> Iterator[str]:
    """The synthetic H.264 camera on loopback."""
    reason = camera_available()
    if reason:
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    with run_camera() as url:
        yield url


@pytest.mark.media
async def test_a_viewer_at_the_door_is_told_to_the_phone(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    loaded: tuple[MockConfigEntry, Gateway, Bound],
    cameras: dict[str, Any],
    camera_url: str,
    city: CityCall,
    phone: Phone,
    automations: Automations,
) -> None:
    _, _, bound = loaded
    cameras["front_door"].source = camera_url
    await automations(("notify_when_watching.yaml", {"notify_device": phone.device_id}))
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: "select.front_door_approval", "option": "auto"},
        blocking=True,
    )
    await consent(hass)
    status, answer = await city(incident_id="JPD-2026-000777")
    assert status == 201, answer
    token = answer["shares"][0]["links"]["rtsp"].rsplit("/", 1)[1]

    viewer = await play(f"rtsp://127.0.0.1:{bound.rtsp[1]}/{token}")
    watcher = asyncio.create_task(viewer.read_until_end(timeout=30))
    try:
        note = await phone.next_notification()
    finally:
        viewer.close()
        await watcher
    assert note["title"] == "Jackson Police Department is watching"
    assert "camera.front_door" in note["message"]
    assert "JPD-2026-000777" in note["message"]
    assert "burglary" in note["message"]
    assert "Viewers now: 1" in note["message"]
    assert token not in json.dumps(note), "no link or token reaches the phone"
