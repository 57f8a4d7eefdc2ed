// Drives the "City sharing" panel in headless Chromium (playwright-core) for test_panel.py.
// Usage: node panel_flow.cjs HASS_URL USER PASSWORD SCREENSHOT_DIR
// It talks to the test over lines: it prints "STEP <name> [json]" and, where the test must act
// (file a request, start a viewer), waits for "GO" on stdin. Any failure prints "FAIL <why>".
"use strict";
const path = require("path");
const readline = require("readline");
const { chromium } = require("playwright-core");

const [url, user, password, shots] = process.argv.slice(2);
const WAIT = { timeout: 90000 };
const lines = readline.createInterface({ input: process.stdin });
const queue = [];
let waiter = null;
lines.on("line", (line) => (waiter ? (waiter(line), (waiter = null)) : queue.push(line)));
const nextLine = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r)));

// Wait for a condition on re-rendered content (the panel replaces its elements on every push,
// so element handles go stale; locators are re-resolved each time).
async function until(check, what) {
  const end = Date.now() + WAIT.timeout;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function step(name, data) {
  process.stdout.write(`STEP ${name}${data === undefined ? "" : " " + JSON.stringify(data)}\n`);
}
async function go(name, data) {
  step(name, data);
  const line = await nextLine();
  if (line !== "GO") throw new Error(`expected GO after ${name}, got ${line}`);
}

let failShot = async () => {};
(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    page.on("console", (msg) => msg.type() === "error" && process.stdout.write(`CONSOLE ${msg.text()}\n`));
    const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`) });
    failShot = () => shot("99-failure").catch(() => {});

    // The real login page: Home Assistant sends an unknown visitor there, then back to the panel.
    await page.goto(`${url}/rtcc-share`);
    await page.waitForURL(/\/auth\/authorize/, WAIT);
    await page.locator('input[name="username"]').fill(user);
    await page.locator('input[name="password"]').fill(password);
    await shot("01-login");
    await page.getByRole("button", { name: /log in/i }).click();
    await page.waitForURL(/\/rtcc-share/, WAIT);
    const panel = page.locator("rtcc-share-panel");
    await panel.locator("h1", { hasText: "City sharing" }).waitFor(WAIT);

    // Cameras: consent is off until the owner turns it on here.
    const consent = panel.locator('button[role="switch"]').first();
    await consent.waitFor(WAIT);
    if ((await consent.getAttribute("aria-checked")) !== "false") throw new Error("consent was not off");
    await consent.click();
    await panel.locator('button[role="switch"][aria-checked="true"]').first().waitFor(WAIT);
    await panel.locator(".status", { hasText: "Ready to share" }).first().waitFor(WAIT);
    await shot("02-consent-on");
    await go("consented");

    // The city's request appears (pushed, not polled) with who asks, why, and a countdown.
    const request = panel.locator("article.request").first();
    await request.waitFor(WAIT);
    await request.getByText("Jackson Police Department asks").waitFor(WAIT);
    await request.getByText("burglary").waitFor(WAIT);
    await request.getByText("Suspect seen leaving towards the street").waitFor(WAIT);
    const deadline = request.locator('[role="timer"]');
    const first = await deadline.textContent();
    if (!/^\d+:\d\d$/.test(first)) throw new Error(`no countdown to the deadline: ${first}`);
    await until(async () => (await deadline.textContent()) !== first, "the countdown to tick");
    await shot("03-pending-request");
    await page.setViewportSize({ width: 390, height: 844 }); // a phone
    await shot("04-pending-request-phone");
    await page.setViewportSize({ width: 1280, height: 1000 });

    await request.getByRole("button", { name: /^Approve every camera/ }).click();
    const share = panel.locator("section", { hasText: "Live shares (1)" });
    await share.waitFor(WAIT);
    const ends = share.locator('[role="timer"]').first();
    await until(async () => /^\d+:\d\d$/.test(await ends.textContent()), "a countdown to ends_at");
    await panel.getByText("Nothing is shared now.").waitFor({ state: "detached", ...WAIT });
    await shot("05-live-share");
    await go("approved");

    // A viewer (ffmpeg) reads the link: the panel says so.
    await share.locator(".viewers .count", { hasText: /^1 viewer$/ }).waitFor(WAIT);
    const since = share.locator(".viewers .viewer");
    await since.first().waitFor(WAIT);
    const seen = (await since.allTextContents()).map((t) => t.trim());
    if (seen.length !== 1 || !/^since \d\d:\d\d via RTSP$/.test(seen[0])) {
      throw new Error(`expected one "since HH:MM via RTSP", got ${JSON.stringify(seen)}`);
    }
    await shot("06-one-viewer");
    await go("viewing"); // the test checks that ffmpeg is still reading before the revoke
    await share.getByRole("button", { name: /^Revoke the share/ }).click();
    await panel.getByText("Nothing is shared now.").waitFor(WAIT);
    await shot("07-revoked");

    await go("revoked"); // the test sees ffmpeg's stream end (the viewer was cut)

    // The owner renames the camera's entity (what HA's rename dialog does, through the entity
    // registry's websocket command): the device, its sharing entities and consent are kept,
    // and the panel shows the same camera, consent on, under the new entity id.
    const cameraId = await consent.getAttribute("data-camera");
    const registry = () => page.evaluate(async () => {
      const hass = document.querySelector("home-assistant").hass;
      const entities = await hass.callWS({ type: "config/entity_registry/list" });
      const devices = await hass.callWS({ type: "config/device_registry/list" });
      return {
        cameras: entities.filter((x) => x.entity_id.startsWith("camera.")).map((x) => ({ entity_id: x.entity_id, id: x.id, device_id: x.device_id })),
        sharing: entities.filter((x) => x.platform === "rtcc_share").map((x) => ({ entity_id: x.entity_id, device_id: x.device_id })),
        devices: devices.map((d) => d.id).sort(),
      };
    });
    const before = await registry();
    if (before.cameras.length !== 1) throw new Error(`expected one camera entity, got ${JSON.stringify(before.cameras)}`);
    const renamedFrom = before.cameras[0].entity_id;
    await page.evaluate(async (from) => {
      const hass = document.querySelector("home-assistant").hass;
      await hass.callWS({ type: "config/entity_registry/update", entity_id: from, new_entity_id: "camera.front_door" });
    }, renamedFrom);
    await panel.getByText("camera.front_door").waitFor(WAIT);
    const kept = panel.locator(`button[role="switch"][data-camera="${cameraId}"]`);
    await kept.waitFor(WAIT);
    if ((await kept.getAttribute("aria-checked")) !== "true") throw new Error("consent was lost by the rename");
    if (await panel.getByText(renamedFrom, { exact: true }).count()) throw new Error(`${renamedFrom} is still shown`);
    const after = await registry();
    await shot("08-renamed");
    if (errors.length) throw new Error(`errors on the page: ${errors.join("; ")}`);
    await go("renamed", { from: renamedFrom, camera_id: cameraId, before, after });
  } catch (err) {
    await failShot();
    throw err;
  } finally {
    await browser.close();
  }
})().then(
  () => { step("done"); process.exit(0); },
  (err) => { process.stdout.write(`FAIL ${String(err && err.stack || err).replace(/\n/g, " | ")}\n`); process.exit(1); },
);
