// Share links: the inputs and a custom constitution, deflated into the URL's #
// fragment (never sent to a server), and read back on load.

import { $, show } from "./dom.js";
import { S } from "./state.js";
import { validate } from "./worker-link.js";
import { responseAreas, setInputs } from "./inputs.js";
import { constitutionError, setCustom } from "./editor.js";

// ---------------------------------------------------------------- sharing

const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

export async function shareLink() {
  const payload = { v: 1, conversation: $("#conversation").value, responses: responseAreas().map((t) => t.value), constitution: S.source === "custom" ? S.custom : null };
  const raw = new TextEncoder().encode(JSON.stringify(payload));
  const packed = await pipe(raw, new CompressionStream("deflate-raw"));
  let bin = "";
  for (let i = 0; i < packed.length; i += 8192) bin += String.fromCharCode(...packed.subarray(i, i + 8192));
  const frag = `#s=${btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
  const url = `${location.origin}${location.pathname}${frag}`;
  const out = $("#share-out");
  out.value = url;
  show(out);
  out.select();
  try {
    await navigator.clipboard.writeText(url);
    $("#turns").textContent = "Share link copied. It carries the inputs (and a custom constitution) after the #, which is never sent to a server.";
  } catch {
    /* the field shows it */
  }
}

export async function readShared() {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return false;
  try {
    const raw = await pipe(unb64u(m[1]), new DecompressionStream("deflate-raw"));
    const p = JSON.parse(new TextDecoder().decode(raw));
    setInputs(String(p.conversation || ""), Array.isArray(p.responses) ? p.responses.map(String) : []);
    if (p.constitution) {
      const v = await validate(JSON.stringify(p.constitution));
      if (v.ok) setCustom(v.constitution, `Loaded “${v.constitution.name}” from the link and saved it in this browser.`);
      else constitutionError(`The link's constitution is not valid: ${v.error}`);
    }
    return true;
  } catch (e) {
    constitutionError(`The share link could not be read (${e.message}); it may have been cut short.`);
    return false;
  }
}
