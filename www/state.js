// What the page holds between events: one state object (S) that the page's modules
// share, the keys it keeps in localStorage, and the engine's input limits.

export const LS_INPUTS = "principle-checker.inputs.v1";
export const LS_CUSTOM = "principle-checker.constitution.v1";
export const LS_SOURCE = "principle-checker.source.v1";

export const S = {
  engine: null,
  /** What the engine accepts (its inputLimits()), once its code has loaded. */
  limits: null,
  engineReady: false,
  memoryNeed: 0, // bytes, the engine's estimate for the loaded model
  engineStarted: 0,
  model: null,
  builtinJson: "",
  builtin: null,
  custom: null,
  source: "builtin",
  selected: new Set(),
  run: null,
  reason: null,
  validations: new Map(),
  editing: null,
  /** The editor's last question to the engine about what its principles read. */
  readsId: 0,
  readsAsked: [],
  /** The trained head's dimensions (names of a verdict's `by_dimension` entries). */
  dimensions: [],
};

export const setState = (s) => (document.body.dataset.state = s);
export const maxResponses = () => (S.limits ? S.limits.maxResponses : Infinity);
export const minResponses = () => (S.limits ? S.limits.minResponses : 2);
export const constitution = () => (S.source === "custom" && S.custom ? S.custom : S.builtin);
