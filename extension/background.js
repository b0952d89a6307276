// The extension's service worker: the "Check against the constitution" context menu,
// and the side panel it opens. The selection travels to the panel through
// chrome.storage.session (the "inbox"): one key per selection, so two quick clicks
// cannot overwrite each other, and a panel that opens later still finds them.
// The panel (sidepanel.js) takes each one as a response and removes its key.

const MENU_ID = "check-selection";
const INBOX = "inbox:"; // + zero-padded time and sequence number, so keys sort in click order
let seq = 0;

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id: MENU_ID, title: "Check against the constitution", contexts: ["selection"] });
  });
});

// the toolbar button opens the panel too, to type or paste without selecting
chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch((e) => console.warn("side panel behaviour:", e.message));

/**
 * The context menu's click: opens the side panel of the tab's window and queues the
 * selected text (info.selectionText, so no access to the page itself is needed) for it.
 * Resolves to {key, panel} where panel is "opened" or why it could not open.
 */
async function onMenuClick(info, tab) {
  if (info.menuItemId !== MENU_ID || !info.selectionText) return { key: null, panel: "nothing selected" };
  // sidePanel.open() is allowed only in response to the click (a user gesture), so it
  // is called before anything is awaited
  const opening = tab
    ? chrome.sidePanel.open({ windowId: tab.windowId }).then(
        () => "opened",
        (e) => e.message,
      )
    : Promise.resolve("no tab");
  const key = `${INBOX}${String(Date.now()).padStart(15, "0")}-${String(seq++).padStart(6, "0")}`;
  await chrome.storage.session.set({ [key]: { text: info.selectionText, windowId: tab ? tab.windowId : null } });
  return { key, panel: await opening };
}

chrome.contextMenus.onClicked.addListener((info, tab) => {
  onMenuClick(info, tab).catch((e) => console.error("principle-checker:", e));
});

// tests/e2e/extension.test.mjs calls the handler directly (Playwright cannot click a
// browser context menu)
self.onMenuClick = onMenuClick;
