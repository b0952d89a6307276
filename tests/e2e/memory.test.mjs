// The page where memory is short, in real Chromium whose WebAssembly memories V8 caps
// (--js-flags=--wasm-max-mem-pages): a device that cannot give what the engine says
// the model needs is told so before the download; an engine that runs out later (the
// reasoning builds the whole model, which needs far more) ends with a clear message
// and the text kept, not a crashed tab. Timings are printed, never asserted.
//
//     node --test tests/e2e/            (scripts/test.sh runs this)

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const LONG = 10 * 60_000;
const PAGE = 65536;
const say = (msg) => console.log(`[e2e memory] ${msg}`);

execFileSync("bash", ["scripts/serve.sh", "--prepare"], { cwd: ROOT, stdio: "inherit" });
const server = spawn("python3", ["tools/serve.py", "www", "0", "--csp"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
const origin = await new Promise((resolve, reject) => {
  server.stdout.once("data", (d) => resolve(String(d).trim().split("\n")[0]));
  server.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
});
after(() => server.kill());

/** A fresh browser whose wasm memories may not grow past `mib`; returns it, its page
 * and the URLs the page requested. */
async function capped(mib) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", `--js-flags=--wasm-max-mem-pages=${Math.floor((mib * 1024 * 1024) / PAGE)}`],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  context.on("request", (r) => requests.push(r.url()));
  const page = await context.newPage();
  return { browser, page, requests };
}

test("a browser that cannot give what the model needs is told so before the download", { timeout: LONG }, async () => {
  const { browser, page, requests } = await capped(200);
  try {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-state="error"]', { timeout: LONG });
    const error = await page.textContent("#model-error");
    say(`capped at 200 MiB: ${error}`);
    assert.match(error, /could not set aside the [\d.]+ MB of memory the judge needs .*so the model was not loaded/);
    assert.match(error, /Close other tabs and apps/);
    assert.match(await page.textContent("#model-status"), /^\s*The model is not loaded\.\s+It needs about [\d.]+ MB of memory\./);
    assert.ok(!requests.some((u) => /model\.onnx$/.test(u)), "the model was not downloaded");
  } finally {
    await browser.close();
  }
});

test("an engine that runs out of memory says so, keeps the text and stops", { timeout: LONG }, async () => {
  // room for the head's check (the engine's estimate), not for the whole model
  const { browser, page } = await capped(400);
  try {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: LONG });
    await page.click("#load-example");
    const conversation = await page.inputValue("#conversation");
    await page.click("#check");
    await page.waitForSelector('body[data-run="done"]', { timeout: LONG });
    say(`capped at 400 MiB, the head's check ran: ${await page.textContent("#about-memory")}`);
    await page.locator("#verdicts tbody tr .reason-btn").first().click();
    await page.click("#reasoning-run");
    await page.waitForSelector('body[data-state="error"]', { timeout: LONG });
    const error = await page.textContent("#model-error");
    say(`asked for the reasoning: ${error}`);
    assert.match(error, /The engine ran out of memory: the browser gave it [\d.]+ MB and refused [\d.]+ MB more \(the model needs about [\d.]+ MB\)/);
    assert.match(error, /What you typed is kept/);
    assert.match(await page.textContent("#reasoning-status"), /The reasoning stopped: The engine ran out of memory/);
    assert.equal(await page.inputValue("#conversation"), conversation);
    assert.ok(await page.isDisabled("#check"), "Check is off: the engine is gone");
    assert.match(await page.textContent("#model-text"), /^The engine stopped: it ran out of memory\. Reload the page/);
  } finally {
    await browser.close();
  }
});
