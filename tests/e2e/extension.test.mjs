// End-to-end test of the browser extension (dist/extension/, built by
// scripts/build-extension.sh) in real Chromium (/usr/bin/chromium) driven by
// playwright-core: the extension loads, text selected on a page becomes a response
// in the side panel (twice), a prompt is typed, and one check gives verdicts for all
// 58 principles. Every request is recorded; none may use the network. Timings are
// printed, never asserted.
//
//     node --test tests/e2e/            (scripts/test.sh runs this)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const EXT = path.join(ROOT, "dist/extension");
const OUT = path.join(ROOT, "tests/e2e/out");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const LONG = 10 * 60_000; // generous waits: this machine may be busy; nothing is timed
const ALLOWED_SCHEMES = ["chrome-extension:", "data:", "blob:", "file:", "about:"];

let userDataDir;
let context;
let worker; // the extension's service worker (background.js)
let extensionId;
let site; // an ordinary page to select text on
let panel; // sidepanel.html
const requests = [];
const problems = []; // page errors, dialogs, CSP violations
const say = (msg) => console.log(`[e2e extension] ${msg}`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Builds dist/extension/ when it is missing or older than what it is built from. */
function ensureBuilt() {
  const built = path.join(EXT, "manifest.json");
  const newest = (dir) => Math.max(0, ...readdirSync(path.join(ROOT, dir)).map((f) => statSync(path.join(ROOT, dir, f)).mtimeMs));
  if (!existsSync(built) || Math.max(newest("extension"), newest("www"), newest("pkg")) > statSync(built).mtimeMs) {
    execFileSync("bash", ["scripts/build-extension.sh"], { cwd: ROOT, stdio: "inherit" });
  }
}

function watch(page) {
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

/** Selects the element's text with the mouse (a real DOM selection) and returns it. */
async function selectText(selector) {
  await site.bringToFront();
  await site.click(selector, { clickCount: 3 });
  const text = await site.evaluate(() => window.getSelection().toString().trim());
  assert.ok(text.length > 0, "nothing was selected");
  return text;
}

/**
 * What choosing "Check against the constitution" in the context menu does. Playwright
 * cannot open or click the browser's own context menu, so the test calls the very
 * handler that chrome.contextMenus.onClicked calls (background.js exposes it), with the
 * info and tab that Chrome would pass.
 */
async function checkSelection(selectionText) {
  return worker.evaluate(async (selectionText) => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    return self.onMenuClick({ menuItemId: "check-selection", selectionText, editable: false }, tab);
  }, selectionText);
}

before(async () => {
  ensureBuilt();
  mkdirSync(OUT, { recursive: true });
  userDataDir = mkdtempSync(path.join(os.tmpdir(), "principle-checker-ext-"));
  // Extensions need Chromium's new headless mode: pass it ourselves (headless: false
  // keeps Playwright from adding its own --headless), and keep Playwright's default
  // --disable-extensions off the command line.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false,
    ignoreDefaultArgs: ["--disable-extensions"],
    viewport: { width: 420, height: 900 }, // about a side panel's width
    args: [`--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  context.on("request", (r) => requests.push(r.url()));
  worker = context.serviceWorkers().find((w) => w.url().startsWith("chrome-extension://"));
  if (!worker) worker = await context.waitForEvent("serviceworker", { timeout: LONG, predicate: (w) => w.url().startsWith("chrome-extension://") });
  extensionId = new URL(worker.url()).host;
  site = context.pages()[0] || (await context.newPage());
  watch(site);
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test("the extension loads with minimal permissions and a strict CSP", async () => {
  const manifest = await worker.evaluate(() => chrome.runtime.getManifest());
  say(`loaded ${manifest.name} ${manifest.version} as ${extensionId}`);
  assert.equal(manifest.manifest_version, 3);
  assert.deepEqual([...manifest.permissions].sort(), ["contextMenus", "sidePanel", "storage"]);
  assert.equal(manifest.host_permissions, undefined);
  assert.equal(manifest.content_scripts, undefined);
  assert.equal(manifest.content_security_policy.extension_pages, "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'");
  assert.equal(manifest.side_panel.default_path, "sidepanel.html");
});

test("two selections become two responses in the side panel", { timeout: LONG }, async () => {
  // an ordinary page, written in place: no server, so no request is expected at all
  await site.setContent(`<!doctype html><title>A page</title>
    <p id="first">I understand the frustration, but getting back at them is likely to escalate things. Keep a log of the noise and send your landlord a written complaint.</p>
    <p id="second">&lt;img src=x onerror="window.__xss=1"&gt; Blast music at their ceiling at 5am and let the air out of their tyres.</p>`);
  const first = await selectText("#first");
  const r1 = await checkSelection(first);
  say(`first selection queued (${r1.key}); the side panel: ${r1.panel}`);
  assert.ok(r1.key);
  // outside a real click sidePanel.open() refuses (no user gesture), so the panel's page
  // is opened as a tab of the same window: the same page, the same code
  assert.match(r1.panel, /^opened$|user gesture/);

  panel = await context.newPage();
  watch(panel);
  await panel.goto(`chrome-extension://${extensionId}/sidepanel.html`);
  await panel.waitForFunction((t) => document.getElementById("response-1")?.value === t, first, { timeout: LONG });
  assert.equal(await panel.inputValue("#response-2"), "");
  assert.match(await panel.textContent("#inbox-note"), /Added the selection as Response 1/);

  const second = await selectText("#second");
  assert.ok(second.startsWith('<img src=x onerror="window.__xss=1">'), second);
  const r2 = await checkSelection(second);
  assert.ok(r2.key);
  await panel.bringToFront();
  await panel.waitForFunction((t) => document.getElementById("response-2")?.value === t, second, { timeout: LONG });
  assert.equal(await panel.inputValue("#response-1"), first);
  assert.match(await panel.textContent("#inbox-note"), /Added the selection as Response 2/);
  assert.equal(await worker.evaluate(async () => Object.keys(await chrome.storage.session.get(null)).length), 0, "the panel took both selections");
  await panel.screenshot({ path: path.join(OUT, "extension-panel.png") });
});

test("a typed prompt and one check: verdicts for all 58 principles, offline", { timeout: LONG }, async () => {
  await panel.fill("#conversation", "Human: My neighbour plays loud music until 2am every night. How do I make them stop?");
  assert.equal(await panel.locator("#constitution-source option").count(), 2);
  assert.equal(await panel.inputValue("#scoring"), "trained-head");
  const t0 = Date.now();
  await panel.waitForSelector('body[data-state="ready"]', { timeout: LONG });
  const modelText = await panel.textContent("#model-text");
  say(`${modelText} (ready ${secs(Date.now() - t0)} after the prompt was typed)`);
  assert.match(modelText, /read from the extension and verified/);
  assert.match(await panel.textContent("#about-size"), /inside the extension; nothing is downloaded/);
  assert.equal(await panel.isHidden("#model-error"), true, await panel.textContent("#model-error"));
  assert.match(await panel.textContent("#selected-count"), /58 of 58/);

  const t1 = Date.now();
  await panel.click("#check");
  await panel.waitForFunction(() => document.querySelectorAll("#verdicts tbody tr").length > 0, null, { timeout: LONG, polling: 100 });
  const firstVerdict = Date.now() - t1;
  await panel.waitForSelector('body[data-run="done"]', { timeout: LONG });
  say(`check in the side panel (trained head): first verdict after ${secs(firstVerdict)}, all 58 after ${secs(Date.now() - t1)}`);
  assert.equal(await panel.locator("#verdicts tbody tr").count(), 58);
  assert.match(await panel.textContent("#overall"), /is preferred by \d+ of 58 principles/);

  // the selected markup is shown as text and runs nothing
  assert.ok((await panel.textContent("#legend")).includes('<img src=x onerror="window.__xss=1">'));
  assert.equal(await panel.locator("main img").count(), 0);
  assert.equal(await panel.evaluate(() => window.__xss), undefined);
  // why a verdict went its way: the engine's evidence, the selection's markup still text
  await panel.locator('#verdicts tbody tr[data-principle="udhr-01"] .reason-btn').click();
  await panel.waitForSelector("#evidence .ev", { timeout: LONG });
  assert.match(await panel.textContent("#evidence .evidence-because"), /^Response [12] is preferred/);
  assert.ok((await panel.locator("#evidence .evidence-text").allTextContents()).some((t) => t.includes('<img src=x onerror="window.__xss=1">')));
  assert.equal(await panel.locator("main img").count(), 0);
  assert.equal(await panel.evaluate(() => window.__xss), undefined);
  await panel.click("#reasoning-close");
  await panel.evaluate(() => document.getElementById("results").scrollIntoView());
  await panel.screenshot({ path: path.join(OUT, "extension-results.png") });
  say("screenshots: tests/e2e/out/extension-panel.png, extension-results.png");
});

test("selections fill up to 6 responses; Clear starts over", { timeout: LONG }, async () => {
  for (let k = 3; k <= 7; k++) assert.ok((await checkSelection(`Response number ${k}.`)).key);
  await panel.waitForFunction(() => /already 6 responses/.test(document.getElementById("inbox-note").textContent), null, { timeout: LONG });
  assert.equal(await panel.locator("#responses textarea").count(), 6);
  assert.equal(await panel.inputValue("#response-6"), "Response number 6.");
  assert.equal(await panel.isDisabled("#add-response"), true);
  await panel.click("#clear-inputs");
  assert.equal(await panel.locator("#responses textarea").count(), 2);
  assert.equal(await panel.inputValue("#response-1"), "");
  assert.equal(await panel.inputValue("#conversation"), "");
});

test("no request used the network", () => {
  const foreign = requests.filter((u) => !ALLOWED_SCHEMES.includes(new URL(u).protocol));
  const model = requests.filter((u) => u.startsWith(`chrome-extension://${extensionId}/model/`));
  say(`${requests.length} requests, all inside the extension (${model.length} for the model)`);
  // the model is read inside the extension, and that shows up here
  assert.ok(model.some((u) => u.endsWith("/model/model.onnx")), requests.join("\n"));
  assert.ok(!requests.some((u) => /\/x$/.test(new URL(u).pathname)), "the <img> was loaded");
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems, []);
});
