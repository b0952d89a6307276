// ESLint for the project's JavaScript (scripts/lint.sh runs it): the recommended
// rules, with the globals of the environment each file runs in. Versions are pinned
// in package.json.
import js from "@eslint/js";
import globals from "globals";

const WORKERS = ["www/worker.js", "bench/page/worker.js", "bench/page/ort-worker.js"];

export default [
  {
    // generated or fetched: wasm-bindgen's output, the model, the extension build,
    // onnxruntime-web for the benchmark, test output
    ignores: [
      "www/pkg/**",
      "www/model/**",
      "www/ort/**",
      "www/bench/**",
      "pkg/**",
      "dist/**",
      "target/**",
      "tests/e2e/out/**",
      "**/node_modules/**",
    ],
  },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
  },
  // the page: modules loaded by index.html (some, like engine.js and
  // model-store.js, also run inside the workers)
  {
    files: ["www/**/*.js", "bench/page/*.js", "extension/sidepanel.js"],
    ignores: [...WORKERS, "www/sw.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
  // module workers
  {
    files: WORKERS,
    languageOptions: { globals: { ...globals.worker } },
  },
  // the page's service worker, registered as a classic script
  {
    files: ["www/sw.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.serviceworker } },
  },
  // the extension: its service worker is a classic script (manifest.json has no
  // "type": "module"); both it and the side panel use the chrome.* APIs
  {
    files: ["extension/background.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.serviceworker } },
  },
  {
    files: ["extension/**/*.js"],
    languageOptions: { globals: { ...globals.webextensions } },
  },
  // Node: the end-to-end tests, the browser benchmark's driver, this file
  {
    files: ["tests/e2e/**/*.mjs", "bench/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  // ...whose Playwright callbacks (page.evaluate) run in the page, and in the
  // extension's service worker for its test
  {
    files: ["tests/e2e/**/*.mjs", "bench/**/*.mjs"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["tests/e2e/extension.test.mjs"],
    languageOptions: { globals: { ...globals.webextensions } },
  },
];
