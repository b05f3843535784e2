export { createApp, type AppDeps, type ParleyApp } from "./app.js";
export { listen, type ListenOptions, type Listening } from "./server.js";
export { startParley, type ParleyOptions, type RunningParley, type EndpointInfo } from "./parley.js";
export { generateSecrets, loadOrCreateSecrets, type Secrets } from "./config/secrets.js";
export { ensureDevTls } from "./tls/devCa.js";
export { signRequest } from "./auth/hmac.js";
export { assertPythonParsable, TokenService } from "./auth/tokens.js";
export * from "./store/index.js";
