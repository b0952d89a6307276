// The side panel's glue. sidepanel.html is www/index.html plus this script and
// sidepanel.css (scripts/build-extension.sh); app.js runs the panel exactly as it runs
// the page. This file only adds what the extension needs: selections from the
// context menu become responses, and the texts about privacy and storage say what
// is true here. Selected text is untrusted: it reaches the DOM only as text.

import { addResponse, setInputs } from "./app.js";
import { h, fill, $ } from "./dom.js";

const INBOX = "inbox:"; // see background.js
const taken = new Set();
let windowId = null;

const note = h("p", { id: "inbox-note", class: "muted", role: "status", "aria-live": "polite" });
$("#responses").before(note);

/** Adds the queued selections meant for this window, oldest first, and removes them. */
async function takeInbox(items) {
  const keys = Object.keys(items)
    .filter((k) => k.startsWith(INBOX) && !taken.has(k))
    .filter((k) => items[k] && (items[k].windowId === null || windowId === null || items[k].windowId === windowId))
    .sort();
  if (!keys.length) return;
  for (const k of keys) {
    taken.add(k);
    const i = addResponse(String(items[k].text));
    note.textContent =
      i < 0
        ? "There are already 6 responses: remove one, then check the selection again."
        : `Added the selection as Response ${i + 1}. Select more text and use “Check against the constitution” to add another (up to 6).`;
  }
  await chrome.storage.session.remove(keys);
  document.body.dataset.inbox = String(taken.size);
}

function extensionTexts() {
  $(".tagline").textContent = "Compare assistant responses against a written constitution with a small language model that runs entirely inside this extension. Select text on any page and use “Check against the constitution” in the context menu to add it as a response.";
  fill($("#about-privacy"), "Everything runs in this side panel: the engine and the model ship inside the extension, which makes no network request and cannot read the pages you visit. It only receives the text you select and send to it from the context menu.");
  $("#about-size").previousElementSibling.textContent = "Size";
  $("footer").textContent = "principle-checker browser extension · works offline";
  const clear = h("button", { type: "button", id: "clear-inputs", onclick: () => ((note.textContent = ""), setInputs("", ["", ""])) }, "Clear");
  $("#load-example").after(clear);
}

async function main() {
  extensionTexts();
  try {
    windowId = (await chrome.windows.getCurrent()).id;
  } catch {
    windowId = null;
  }
  chrome.storage.session.onChanged.addListener((changes) => {
    const added = {};
    for (const [k, c] of Object.entries(changes)) if (c.newValue !== undefined) added[k] = c.newValue;
    takeInbox(added);
  });
  await takeInbox(await chrome.storage.session.get(null));
  document.body.dataset.extension = "ready";
}

main();
