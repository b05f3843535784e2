export * from "./identifiers.js";
export * from "./errors.js";
export * from "./limits.js";
export * from "./apiVersions.js";
export * from "./models.js";
export * from "./events.js";
export * from "./eventGrid.js";
