export { Trouter, TROUTER_PATHS, type TrouterDeps } from "./trouter.js";
export { DEFAULT_TROUTER_OPTIONS, type TrouterOptions, type TrouterFaults, type TrouterTransport } from "./options.js";
export { renderLogPayload, renderSignalPayload, eventMessageType, EVENT_IDS, type TrouterPayload } from "./payloads.js";
