// End-to-end tests of the page in www/ with real Chromium (/usr/bin/chromium) driven
// by playwright-core. One browser context for the whole file, in order: cold start
// (download + cache), an XSS check, the full 58-principle check, reasoning, cancel,
// a malformed import, a warm reload, then an offline reload with the server stopped.
// Every request is recorded; none may leave the page's origin. Timings are printed,
// never asserted.
//
//     node --test tests/e2e/            (scripts/test.sh runs this)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const OUT = path.join(ROOT, "tests/e2e/out");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const LONG = 10 * 60_000; // generous waits: this machine may be busy; nothing is timed

let server;
let origin;
let browser;
let context;
let page;
const requests = [];
const problems = []; // page errors, dialogs, CSP violations
const say = (msg) => console.log(`[e2e] ${msg}`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function startServer() {
  execFileSync("bash", ["scripts/serve.sh", "--prepare"], { cwd: ROOT, stdio: "inherit" });
  server = spawn("python3", ["tools/serve.py", "www", "0", "--csp"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  origin = await new Promise((resolve, reject) => {
    server.stdout.once("data", (d) => resolve(String(d).trim().split("\n")[0]));
    server.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function stopServer() {
  if (server && server.exitCode === null) server.kill();
}

async function waitReady() {
  await page.waitForSelector('body[data-state="ready"]', { timeout: LONG });
}

/** Selects exactly these principle ids, through the search box and "Select all". */
async function selectOnly(ids) {
  await page.fill("#principle-search", "");
  await page.click("#select-none");
  for (const id of ids) {
    await page.fill("#principle-search", id);
    await page.click("#select-all");
  }
  await page.fill("#principle-search", "");
}

async function selectEverything() {
  await page.fill("#principle-search", "");
  await page.click("#select-all");
}

async function runCheck() {
  await page.click("#check");
  await page.waitForSelector('body[data-run="done"]', { timeout: LONG });
}

const rowCount = () => page.locator("#verdicts tbody tr").count();

before(async () => {
  mkdirSync(OUT, { recursive: true });
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.on("request", (r) => requests.push(r.url()));
  // records what the load status said, to see the download progress go by
  await context.addInitScript(() => {
    window.__status = [];
    document.addEventListener("DOMContentLoaded", () => {
      const el = document.getElementById("model-status");
      new MutationObserver(() => window.__status.push(el.textContent.replace(/\s+/g, " ").trim())).observe(el, { childList: true, characterData: true, subtree: true });
    });
  });
  page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
});

after(async () => {
  if (browser) await browser.close();
  stopServer();
});

test("cold start: the model downloads with progress, is verified and cached", { timeout: LONG }, async () => {
  const t0 = Date.now();
  const response = await page.goto(`${origin}/`);
  const csp = response.headers()["content-security-policy"] || "";
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(csp, /connect-src 'self'/);
  await waitReady();
  say(`cold start (download ${(97e6 / 1e6).toFixed(0)} MB + verify + cache + load): ${secs(Date.now() - t0)}`);
  const status = await page.evaluate(() => window.__status);
  const progress = status.filter((t) => /Downloading the model \(once\): \d+\.\d% [\d.]+ MB of 98\.2 MB/.test(t));
  say(`download progress steps seen: ${progress.length} (last: ${progress.at(-1)})`);
  assert.ok(progress.length > 0, status.join("\n"));
  // the memory the model needs is said before a byte of it is downloaded
  const need = status.findIndex((t) => /needs about [\d.]+ MB of memory/.test(t));
  const downloading = status.findIndex((t) => /Downloading the model/.test(t));
  say(`memory said before the download: ${status[need]}`);
  assert.ok(need >= 0 && need < downloading, status.join("\n"));
  assert.ok(status.some((t) => /Verifying model\.onnx against its checksum/.test(t)));
  const text = await page.textContent("#model-text");
  assert.match(text, /downloaded, verified and cached/);
  assert.match(await page.textContent("#storage"), /Storage: this site uses/);
  assert.equal(await page.locator(".principle-toggle").count(), 58);
});

test("pasted HTML and scripts show as text and run nothing", { timeout: LONG }, async () => {
  const img = '<img src=x onerror="window.__xss=1;alert(1)">';
  const script = "<script>window.__xss=2;alert(2)</script> Sure, here you go.";
  await page.fill("#conversation", 'Human: Write me a greeting <b onmouseover="alert(3)">now</b>');
  await page.fill("#response-1", img);
  await page.fill("#response-2", script);
  await selectOnly(["udhr-01", "sparrow-01"]);
  await runCheck();
  assert.equal(await rowCount(), 2);
  const legend = await page.textContent("#legend");
  assert.ok(legend.includes("<img src=x onerror="), legend);
  assert.ok(legend.includes("<script>window.__xss=2"), legend);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator("main img, main script, main b").count(), 0);
  assert.ok(!requests.some((u) => new URL(u).pathname === "/x"), "the <img> was loaded");
  assert.equal(await page.locator("#repeats-note").count(), 0);
  // the evidence marks the pasted markup's sentences: as text, still running nothing
  await page.locator('#verdicts tbody tr[data-principle="udhr-01"] .reason-btn').click();
  await page.waitForSelector("#evidence .ev");
  const marked = await page.locator("#evidence .evidence-text").allTextContents();
  assert.equal(marked.length, 2);
  assert.ok(marked[0].includes('<img src=x onerror="window.__xss=1;alert(1)">'), marked[0]);
  assert.ok(marked[1].includes("<script>window.__xss=2;alert(2)</script>"), marked[1]);
  assert.match(await page.textContent("#evidence .evidence-because"), /^Response [12] is preferred/);
  assert.equal(await page.locator("main img, main script, main b").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.click("#reasoning-close");
  assert.deepEqual(problems, []);
});

test("what a check still needs is said next to Check before it is pressed", { timeout: LONG }, async () => {
  await page.fill("#conversation", "");
  await page.fill("#response-1", "");
  await page.fill("#response-2", "");
  assert.equal(await page.textContent("#check-hint"), "Still needed: a conversation, two responses.");
  await page.fill("#conversation", "Human: Hi!");
  await page.fill("#response-1", "Hello!");
  assert.equal(await page.textContent("#check-hint"), "Still needed: a second response.");
  await page.fill("#response-2", "Hi there.");
  assert.equal(await page.textContent("#check-hint"), "");
});

test("a response padded with one sentence is read with it twice, and the page says so", { timeout: LONG }, async () => {
  await page.fill("#conversation", "Human: How do I get rid of a wasp nest under my roof?");
  await page.fill("#response-1", "Wait until dusk, wear long sleeves, and spray a wasp foam into the entrance; if you are allergic, call a pest controller.");
  await page.fill("#response-2", "Just hit it with a stick. " + "This response is safe, harmless and ethical. ".repeat(40));
  await selectOnly(["udhr-01", "sparrow-01"]);
  await runCheck();
  assert.equal(await rowCount(), 2);
  assert.match(await page.textContent("#repeats-note"), /Response 2 repeats a sentence more than twice: 38 of the copies were not read/);
  // the user's text is kept as typed
  assert.equal((await page.inputValue("#response-2")).split("harmless and ethical").length, 41);
});

test("full check with the trained head: 58 verdicts, summaries and exports", { timeout: LONG }, async () => {
  await page.click("#load-example");
  await selectEverything();
  assert.match(await page.textContent("#selected-count"), /58 of 58/);
  const t0 = Date.now();
  await page.click("#check");
  await page.waitForFunction(() => document.querySelectorAll("#verdicts tbody tr").length > 0, null, { timeout: LONG, polling: 100 });
  const first = Date.now() - t0;
  await page.waitForSelector('body[data-run="done"]', { timeout: LONG });
  say(`full check (trained head): first verdict after ${secs(first)}, all 58 after ${secs(Date.now() - t0)}`);
  assert.equal(await rowCount(), 58);
  assert.match(await page.textContent("#results-state"), /with its trained head/);
  // the About panel shows figures, not placeholders
  assert.doesNotMatch(await page.textContent("#about"), /undefined|NaN| \?[ ,.;)]/);
  // every row says which of the head's dimensions moved its verdict
  assert.equal(await page.locator("#verdicts tbody .why").count(), 58);
  assert.match(await page.textContent("#about-trust"), /helpfulness \d+\.\d% \(better reply shorter \d+\.\d%, longer \d+\.\d%\)/);
  // the engine holds no more memory than it said the model needs
  const memory = await page.textContent("#about-memory");
  say(`memory: ${memory}`);
  const [, need, held] = memory.match(/^about ([\d.]+) MB for the model .* the engine holds ([\d.]+) MB now$/).map(Number);
  assert.ok(held <= need, memory);
  // Chromium has relaxed SIMD: the faster build ran, after its self-check passed here
  const engineText = await page.textContent("#about-engine");
  say(`engine: ${engineText}`);
  assert.match(engineText, /relaxed-SIMD build .*self-check against plain arithmetic passed in this browser \(largest relative error \d\.\de-\d+\)/);
  assert.match(await page.textContent("#overall"), /is preferred by \d+ of 58 principles/);
  assert.match(await page.textContent("#where-disagree"), /Where the principles disagree/);
  assert.equal(await page.locator("#groups tbody tr").count(), 6);

  await page.locator("#results").scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById("results").scrollIntoView());
  await page.screenshot({ path: path.join(OUT, "results.png") });
  await page.locator("#results").screenshot({ path: path.join(OUT, "results-full.png") });
  await page.setViewportSize({ width: 390, height: 844 }); // a phone
  await page.evaluate(() => document.getElementById("results").scrollIntoView());
  await page.screenshot({ path: path.join(OUT, "results-narrow.png") });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), "no sideways scrolling on a narrow screen");
  await page.setViewportSize({ width: 1280, height: 900 });
  say(`screenshots: ${path.relative(ROOT, path.join(OUT, "results.png"))}, results-full.png, results-narrow.png`);

  const [csv] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
  const csvText = readFileSync(await csv.path(), "utf8");
  assert.equal(csvText.trim().split("\r\n").length, 59);
  assert.match(csvText.split("\r\n")[0], /^principle_id,group,principle,chosen,p_response_1,p_response_2,/);
  const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
  const data = JSON.parse(readFileSync(await json.path(), "utf8"));
  assert.equal(data.result.verdicts.length, 58);
  assert.equal(data.responses.length, 2);
});

test("text read ahead as it settles: Check only compares, and an edit is read again", { timeout: LONG }, async () => {
  await selectEverything();
  // a conversation and one response: read, but not yet enough to check
  await page.fill("#conversation", "Human: My neighbour's dog barks all night. What should I do?");
  await page.fill("#response-1", "Talk to your neighbour calmly first; if that fails, contact your local council about a noise complaint.");
  await page.fill("#response-2", "");
  await page.waitForFunction(() => /Read ahead: the conversation and 1 response\.$/.test(document.getElementById("read-text").textContent), null, { timeout: LONG, polling: 100 });
  const t1 = Date.now();
  await page.fill("#response-2", "Poison the dog. That will solve it for good.");
  assert.equal(await page.textContent("#read-text"), "", "an edit clears the note until it is read");
  await page.waitForFunction(() => /and 2 responses; Check will only compare them/.test(document.getElementById("read-text").textContent), null, { timeout: LONG, polling: 100 });
  say(`second response read ahead ${secs(Date.now() - t1)} after it was typed (600 ms of it waiting for typing to stop)`);
  await page.locator("#run").screenshot({ path: path.join(OUT, "read-ahead.png") });
  const t0 = Date.now();
  await page.click("#check");
  await page.waitForFunction(() => document.querySelectorAll("#verdicts tbody tr").length > 0, null, { timeout: LONG, polling: 50 });
  const first = Date.now() - t0;
  await page.waitForSelector('body[data-run="done"]', { timeout: LONG });
  say(`check after read-ahead: first verdict after ${secs(first)}, all 58 after ${secs(Date.now() - t0)}; ${await page.textContent("#run-text")}`);
  assert.equal(await rowCount(), 58);
  assert.match(await page.textContent("#run-text"), /^Done: 58 principles in \d+ m?s \(the text had been read ahead\)\.$/);

  const exported = async () => {
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    return JSON.parse(readFileSync(await json.path(), "utf8")).result.verdicts.map((v) => v.preference[0]);
  };
  const readAhead = await exported();

  // an edited response is read by the check; the text before the edit is still read
  await page.fill("#response-2", "Poison the dog. That will solve it for good!");
  await runCheck();
  assert.doesNotMatch(await page.textContent("#run-text"), /read ahead/);
  await page.fill("#response-2", "Poison the dog. That will solve it for good.");
  await runCheck();
  assert.match(await page.textContent("#run-text"), /read ahead/);

  // an edited conversation is read from the edit on, with the responses after it; back
  // to this one, Check reads them itself, and gives the verdicts of the text read ahead
  await page.fill("#conversation", "Human: My neighbour's dog barks all night. What can I do?");
  await runCheck();
  await page.fill("#conversation", "Human: My neighbour's dog barks all night. What should I do?");
  await runCheck();
  assert.doesNotMatch(await page.textContent("#run-text"), /read ahead/);
  const readByCheck = await exported();
  assert.equal(readByCheck.length, 58);
  readByCheck.forEach((p, i) => assert.ok(Math.abs(p - readAhead[i]) < 1e-4, `${p} against ${readAhead[i]}`));
  assert.deepEqual(problems, []);
});

test("reasoning streams token by token, then a clamped answer", { timeout: LONG }, async () => {
  await page.evaluate(() => {
    window.__pieces = [];
    new MutationObserver(() => {
      window.__pieces.push({ len: document.getElementById("reasoning-text").textContent.length, answered: !!document.getElementById("reasoning-answer").textContent });
    }).observe(document.getElementById("reasoning-text"), { childList: true, characterData: true, subtree: true });
    window.__statuses = [];
    new MutationObserver(() => window.__statuses.push(document.getElementById("reasoning-status").textContent)).observe(document.getElementById("reasoning-status"), { childList: true, characterData: true, subtree: true });
  });
  const t0 = Date.now();
  await page.locator("#verdicts tbody tr .reason-btn").first().click();
  // the panel opens under the row clicked, which stays in view (not at the page's end)
  const placed = await page.evaluate(() => {
    const panel = document.getElementById("reasoning");
    const row = document.querySelector("#verdicts tbody tr.verdict");
    const box = row.getBoundingClientRect();
    return { under: row.nextElementSibling && row.nextElementSibling.contains(panel), inView: box.bottom > 0 && box.top < window.innerHeight, principle: row.dataset.principle };
  });
  assert.ok(placed.under && placed.inView, JSON.stringify(placed));
  // why: the engine's evidence first, every sentence marked and reachable by keyboard
  const because = await page.textContent("#evidence .evidence-because");
  say(`evidence: ${because}`);
  assert.match(because, /^Response [12] is preferred (mostly because|, though)/);
  assert.match(await page.textContent("#evidence .evidence-reads"), /^(Judged \d+ % on |This principle speaks to hardly any)/);
  const spans = page.locator("#evidence .ev[tabindex]");
  assert.ok((await spans.count()) >= 2);
  assert.ok((await page.locator("#evidence .ev-for, #evidence .ev-against").count()) >= 1, "some sentence is marked");
  await spans.first().focus();
  assert.match(await page.textContent("#evidence .evidence-readout"), /^Response [12], part 1: [+−]\d+\.\d\d /);
  // the shares are the verdict's logit: first's parts minus second's, plus a remainder
  const shares = await page.evaluate(() => [...document.querySelectorAll("#evidence .evidence-response")].map((b) => [...b.querySelectorAll(".ev[data-weight]")].reduce((a, s) => a + Number(s.dataset.weight), 0)));
  assert.equal(shares.length, 2);
  const rest = Number(await page.getAttribute("#evidence .evidence-responses", "data-rest"));
  const [exported] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
  const verdict = JSON.parse(readFileSync(await exported.path(), "utf8")).result.verdicts.find((v) => v.principle_id === placed.principle);
  const logit = Math.log(verdict.preference[0] / verdict.preference[1]);
  assert.ok(Math.abs(shares[0] - shares[1] + rest - logit) < 0.01, `${shares} ${rest} against ${logit}`);
  await page.locator("#evidence").screenshot({ path: path.join(OUT, "evidence.png") });
  // the model's own words only on request, named for what they are
  assert.equal(await page.textContent("#reasoning-text"), "");
  assert.match(await page.textContent("#cot-note"), /written after the verdict; they are not how the verdict was computed/);
  await page.click("#reasoning-run");
  await page.waitForSelector('#reasoning[data-state="done"]', { timeout: LONG });
  say(`reasoning (up to 64 tokens): ${secs(Date.now() - t0)}; ${await page.textContent("#reasoning-status")}`);
  const pieces = await page.evaluate(() => window.__pieces);
  const beforeAnswer = pieces.filter((p) => !p.answered && p.len > 0);
  assert.ok(beforeAnswer.length >= 2, `text arrived in ${beforeAnswer.length} steps`);
  assert.match(await page.textContent("#reasoning-answer"), /Answer: Response [12] \((4\d|5\d|60)(\.\d)?% after clamping/);
  assert.match(await page.textContent("#cot-note"), /135-million-parameter model/);
  // the first use of logits in this visit: the engine started with the head's layers
  const statuses = await page.evaluate(() => window.__statuses);
  assert.ok(statuses.some((t) => /Building the rest of the model to write the reasoning/.test(t)), JSON.stringify(statuses));
  // closing returns the panel to its place and focus to the row's button
  await page.click("#reasoning-close");
  const closed = await page.evaluate(() => ({
    focused: document.activeElement.classList.contains("reason-btn") && document.activeElement.closest("tr").dataset.principle,
    inTable: !!document.getElementById("reasoning").closest("table"),
    first: document.querySelector("#verdicts tbody tr").dataset.principle,
    rows: document.querySelectorAll("#verdicts tbody tr").length,
  }));
  assert.deepEqual(closed, { focused: placed.principle, inTable: false, first: placed.principle, rows: 58 });
});

test("zero-shot verdicts stream in; Cancel stops the engine at its next step, keeps the verdicts, the engine and what it read", { timeout: LONG }, async () => {
  await selectEverything();
  // the text is read by the trained head first: a check after the cancel must find it read
  await page.selectOption("#scoring", "trained-head");
  await runCheck();
  const modelText = await page.textContent("#model-text");
  const sent = requests.length;
  // the zero-shot prompt takes a pass per few principles, so its verdicts stream
  await page.selectOption("#scoring", "zero-shot");
  const t0check = Date.now();
  await page.click("#check");
  await page.waitForFunction(() => document.body.dataset.run === "running" && document.querySelectorAll("#verdicts tbody tr").length > 0, null, { timeout: LONG, polling: 100 });
  say(`zero-shot: first verdict after ${secs(Date.now() - t0check)}, streamed while the run went on`);
  const t0 = Date.now();
  await page.click("#cancel");
  await page.waitForSelector('body[data-run="cancelled"]', { timeout: LONG });
  say(`cancel took effect after ${secs(Date.now() - t0)} (the step running when it was pressed finishes)`);
  const kept = await rowCount();
  assert.ok(kept > 0 && kept < 58, `kept ${kept} verdicts`);
  assert.match(await page.textContent("#run-text"), new RegExp(`Cancelled: kept ${kept} of 58`));
  // the summaries are the engine's, over the verdicts kept
  assert.match(await page.textContent("#overall"), new RegExp(`of ${kept} principles`));
  // the engine was not restarted: ready at once, same status, nothing fetched again
  assert.equal(await page.isDisabled("#check"), false);
  assert.equal(await page.textContent("#model-text"), modelText);
  await page.selectOption("#scoring", "trained-head");
  await runCheck();
  assert.match(await page.textContent("#run-text"), /Done: 58 principles .*\(the text had been read ahead\)/);
  // a chain of thought stops at Cancel too, a few tokens later, and the engine stays
  await page.locator("#verdicts tbody tr .reason-btn").first().click();
  await page.click("#reasoning-run");
  await page.waitForFunction(() => document.getElementById("reasoning-text").textContent.length > 0, null, { timeout: LONG, polling: 50 });
  await page.click("#cancel");
  assert.equal(await page.textContent("#reasoning-status"), "Stopped.");
  await page.click("#reasoning-close");
  await runCheck();
  assert.match(await page.textContent("#run-text"), /Done: 58 principles .*\(the text had been read ahead\)/);
  const fetched = requests.slice(sent).filter((u) => /worker\.js|\.wasm|\/model\//.test(u));
  assert.deepEqual(fetched, [], "no engine code or model file was fetched again");
  assert.equal(await page.textContent("#model-text"), modelText);
});

test("a malformed constitution shows the engine's error and keeps the inputs", { timeout: LONG }, async () => {
  const conversation = await page.inputValue("#conversation");
  const r1 = await page.inputValue("#response-1");
  await page.setInputFiles("#import-file", { name: "broken.json", mimeType: "application/json", buffer: Buffer.from('{\n  "schema": 1,\n  "name": "Broken",\n  "groups": [\n    {"id": "a", "name": "A", "source": "A"},\n  ]\n}\n') });
  await page.waitForSelector("#constitution-error:not([hidden])", { timeout: LONG });
  const err = await page.textContent("#constitution-error");
  say(`malformed import error: ${err}`);
  assert.match(err, /broken\.json is not a valid constitution: .*line \d+/);
  assert.equal(await page.inputValue("#conversation"), conversation);
  assert.equal(await page.inputValue("#response-1"), r1);
  assert.equal(await page.inputValue("#constitution-source"), "builtin");
  assert.equal(await page.locator(".principle-toggle").count(), 58);

  // a valid one imports, and the built-in one comes back
  const good = { schema: 1, name: "Tiny", groups: [{ id: "g", name: "G", source: "test" }], principles: [{ id: "g-1", group: "g", text: "Please choose the response that is kinder." }] };
  await page.setInputFiles("#import-file", { name: "tiny.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(good)) });
  await page.waitForFunction(() => document.querySelectorAll(".principle-toggle").length === 1, null, { timeout: LONG });
  assert.equal(await page.inputValue("#constitution-source"), "custom");
  await page.selectOption("#constitution-source", "builtin");
  assert.equal(await page.locator(".principle-toggle").count(), 58);
});

test("a share link carries the inputs; a reload finds the model cached", { timeout: LONG }, async () => {
  const marker = "Human: a shared <marker> & prompt";
  await page.fill("#conversation", marker);
  await page.click("#share");
  await page.waitForFunction(() => document.getElementById("share-out").value.startsWith("http"), null, { timeout: LONG });
  const link = await page.inputValue("#share-out");
  assert.ok(link.startsWith(`${origin}/#s=`), link);
  await page.fill("#conversation", "Human: something else"); // also saved locally; the link must win
  await page.goto(link);
  const t0 = Date.now();
  await page.reload();
  await page.waitForFunction((m) => document.getElementById("conversation").value === m, marker, { timeout: LONG });
  await waitReady();
  const status = await page.textContent("#model-text");
  // the page's own figure runs from the engine worker's start, without the page load
  say(`warm start (reload, model cached): ${secs(Date.now() - t0)}; the page says: ${status}`);
  assert.match(status, /model cached/);
  assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), "a service worker controls the page");
});

test("the constitution editor: add, edit, reorder, delete, save; kept after a reload; exported as saved", { timeout: LONG }, async () => {
  await page.selectOption("#constitution-source", "builtin");
  await page.click("#edit-constitution");
  await page.waitForSelector("#editor:not([hidden])");
  assert.equal(await page.locator("#editor-list li").count(), 58);
  await page.fill("#editor-name", "Class demo");
  while ((await page.locator("#editor-list li").count()) > 3) await page.click('[aria-label="Delete principle 4"]');
  const honest = "Please choose the response that is more honest about what it does not know.";
  const teacher = "Please choose the response that a teacher would rather show a class.";
  await page.fill('[aria-label="Text of principle 2"]', honest);
  await page.click("#editor-add");
  await page.fill('[aria-label="Text of principle 4"]', teacher);
  // what the judge will take the new principle to mean, as soon as it is written
  await page.waitForFunction(() => /^What the judge reads: (Judged \d+ % on |This principle speaks to hardly any)/.test(document.querySelector("#principle-reads-3").textContent), null, { timeout: LONG });
  say(`the new principle reads: ${await page.textContent("#principle-reads-3")}`);
  assert.match(await page.textContent("#principle-reads-0"), /^What the judge reads: Judged \d+ % on /);
  for (const k of [4, 3, 2]) await page.click(`[aria-label="Move principle ${k} up"]`); // the new one first
  // a duplicate id is refused with the engine's own message, and nothing is lost
  const first = await page.inputValue('[aria-label="Id of principle 2"]');
  await page.fill('[aria-label="Id of principle 3"]', first);
  await page.click("#editor-save");
  await page.waitForSelector("#editor-error:not([hidden])");
  assert.match(await page.textContent("#editor-error"), new RegExp(`^Not saved: duplicate principle id "${first}" at principles\\[1\\] and principles\\[2\\]`));
  assert.equal(await page.inputValue('[aria-label="Text of principle 1"]'), teacher);
  await page.fill('[aria-label="Id of principle 3"]', "demo-3");
  await page.click("#editor-save");
  await page.waitForFunction(() => document.querySelectorAll(".principle-toggle").length === 4, null, { timeout: LONG });
  assert.equal(await page.inputValue("#constitution-source"), "custom");
  assert.match(await page.textContent("#constitution-note"), /Saved “Class demo”: 4 principles/);

  const [file] = await Promise.all([page.waitForEvent("download"), page.click("#export-constitution")]);
  const exported = JSON.parse(readFileSync(await file.path(), "utf8"));
  assert.equal(exported.name, "Class demo");
  assert.deepEqual(exported.principles.map((p) => p.text).filter((t) => t === teacher || t === honest), [teacher, honest]);
  assert.equal(exported.principles[2].id, "demo-3");

  await page.reload();
  await waitReady();
  assert.equal(await page.inputValue("#constitution-source"), "custom");
  assert.equal(await page.locator(".principle-toggle").count(), 4);
  await page.selectOption("#constitution-source", "builtin");
  assert.equal(await page.locator(".principle-toggle").count(), 58);
});

test("a full disk: the model still loads, and the page says why it was not kept", { timeout: LONG }, async () => {
  // a fresh profile whose origin may store only 20 MB (Chromium's DevTools protocol),
  // so writing the 97 MB model into the Cache API fails as on a full disk
  const ctx = await browser.newContext();
  ctx.on("request", (r) => requests.push(r.url()));
  const p = await ctx.newPage();
  try {
    await p.goto("about:blank");
    const cdp = await ctx.newCDPSession(p);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 20 * 1024 * 1024 });
    await p.goto(`${origin}/`);
    await p.waitForSelector('body[data-state="ready"]', { timeout: LONG });
    const warning = await p.textContent("#model-error");
    say(`storage-full message: ${warning}`);
    assert.match(warning, /The browser has no room to keep the model \(about 98\.2 MB needed\)\. This visit works/);
    assert.match(warning, /free disk space/);
    assert.equal(await p.getAttribute("#model-error", "class"), "warning");
    // the model is usable this visit
    await p.fill("#conversation", "Human: Can you help me write a birthday card for my aunt?");
    await p.fill("#response-1", "Sure: \"Happy birthday to my favourite aunt! Thank you for every story and every cake.\"");
    await p.fill("#response-2", "No.");
    await p.click("#select-none");
    await p.fill("#principle-search", "udhr-01");
    await p.click("#select-all");
    await p.click("#check");
    await p.waitForSelector('body[data-run="done"]', { timeout: LONG });
    assert.equal(await p.locator("#verdicts tbody tr").count(), 1);
  } finally {
    await ctx.close();
  }
});

test("offline: with the server stopped, the page reloads and runs a check", { timeout: LONG }, async () => {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.active.state;
  });
  stopServer();
  await new Promise((r) => server.once("exit", r).exitCode !== null && r());
  await context.setOffline(true);
  const t0 = Date.now();
  await page.reload();
  await waitReady();
  say(`offline start: ${secs(Date.now() - t0)}`);
  await page.click("#load-example");
  await page.click("#add-response"); // three responses: a matrix and a ranking
  await page.fill("#response-3", "I can't help with that.");
  await selectOnly(["udhr-01", "research-1-01"]);
  await runCheck();
  assert.equal(await rowCount(), 2);
  assert.equal(await page.locator("table.matrix tbody tr").count(), 2);
  assert.equal(await page.locator("#ranking li").count(), 3);
  await context.setOffline(false);
});

test("no request left the page's origin", () => {
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith("blob:") && !u.startsWith("data:"));
  say(`${requests.length} requests, all to ${origin}`);
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems, []);
});
