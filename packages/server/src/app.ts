/**
 * createApp(deps): the whole HTTP application from injected parts (store, clock, ids, secrets).
 * It listens on nothing itself: `listen()` in server.ts attaches it to HTTPS and HTTP servers, and
 * tests can attach it to ephemeral ports in-process.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { LIMITS } from "@parley/protocol";
import type { Store } from "./store/index.js";
import { HmacVerifier } from "./auth/hmac.js";
import { TokenService } from "./auth/tokens.js";
import { IdentityService } from "./identity/identityService.js";
import { ChatService } from "./chat/chatService.js";
import { Pipeline } from "./http/pipeline.js";
import { identityRoutes } from "./http/identityRoutes.js";
import { threadRoutes } from "./http/threadRoutes.js";
import { messageRoutes } from "./http/messageRoutes.js";
import { participantRoutes } from "./http/participantRoutes.js";
import { receiptRoutes } from "./http/receiptRoutes.js";
import { serviceRoutes } from "./http/serviceRoutes.js";
import type { Secrets } from "./config/secrets.js";
import { LocalBus, type Bus } from "./realtime/bus.js";
import { EventGateway, DEFAULT_STREAM_OPTIONS } from "./realtime/gateway.js";
import { Trouter, TROUTER_PATHS, type TrouterOptions } from "./trouter/index.js";
import type { ConnectionOptions } from "./realtime/connection.js";
import type { Duplex } from "node:stream";
import { webhookRoutes } from "./http/webhookRoutes.js";
import { WebhookDispatcher, resolveWebhookOptions, type WebhookOptions } from "./webhooks/dispatcher.js";
import { WebhookService } from "./webhooks/service.js";
import { MemoryWebhookStore } from "./webhooks/memoryWebhookStore.js";
import type { WebhookStore } from "./webhooks/webhookStore.js";
import type { SubscriptionInput } from "./webhooks/subscriptions.js";

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface AppDeps {
  store: Store;
  secrets: Secrets;
  clock?: () => number;
  uuid?: () => string;
  /** pino level: "info" by default; tests use "silent". */
  logLevel?: string;
  /** Origins allowed by CORS: "*" (any, the default) or a list. */
  corsOrigins?: "*" | string[];
  /** How far x-ms-date may be from now (ms); 15 minutes, as ACS. */
  hmacMaxSkewMs?: number;
  /** Between writers and the event-stream gateway; in-process unless a shared driver is given. */
  bus?: Bus;
  /** Trouter emulation tuning (the official browser SDK's real-time); defaults in trouter/options.ts. */
  trouter?: Partial<TrouterOptions>;
  /** Event-stream tuning (heartbeat, buffers, retention); defaults in realtime/gateway.ts. */
  stream?: Partial<ConnectionOptions>;
  /** Webhooks (docs/webhooks.md). */
  webhooks?: {
    /** Where subscriptions, cursor, outbox and dead letters live; in memory unless given. The caller closes it. */
    store?: WebhookStore;
    /** Tuning (back-off, timeouts, topic); defaults in webhooks/dispatcher.ts. */
    options?: Partial<WebhookOptions>;
    /** Subscriptions from the --webhooks-config file, applied at start. */
    config?: Array<SubscriptionInput & { id: string; secret: string }>;
  };
  /** Jitter source for webhook retries; Math.random unless given. */
  random?: () => number;
}

export interface ParleyApp {
  fastify: FastifyInstance;
  /** Node request handler, for any number of http/https servers. */
  handler: RequestHandler;
  /** Node `upgrade` handler (the WebSocket event stream and Trouter's sockets), for the same servers. */
  upgrade: UpgradeHandler;
  gateway: EventGateway;
  /** The official browser SDK's real-time protocol, on the same bus and event logs. */
  trouter: Trouter;
  bus: Bus;
  webhooks: WebhookService;
  identity: IdentityService;
  chat: ChatService;
  /** false once shutdown began: /healthz answers 503 so balancers drain this node. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

const IDEMPOTENCY_KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

export async function createApp(deps: AppDeps): Promise<ParleyApp> {
  const clock = deps.clock ?? Date.now;
  const uuid = deps.uuid ?? randomUUID;
  let handler: RequestHandler | undefined;
  let ready = true;

  const fastify = Fastify({
    logger: {
      level: deps.logLevel ?? "info",
      // Never log headers (tokens, HMAC signatures) or bodies (message content).
      serializers: { req: (req) => ({ method: req.method, url: req.routeOptions?.url ?? "unknown" }) },
    },
    // One log line per request comes from the onResponse hook below instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: LIMITS.requestBodyBytes,
    // User ids are ~80 characters and more once percent-encoded.
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: false,
    serverFactory: (h) => {
      handler = h;
      return http.createServer(h);
    },
  });
  // Only registered when it would log: even a hook that logs nothing costs every request a turn.
  if (["trace", "debug", "info"].includes(fastify.log.level)) {
    fastify.addHook("onResponse", (request, reply, done) => {
      request.log.info({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, "request");
      done();
    });
  }

  const bus = deps.bus ?? new LocalBus();
  const stopAnnouncing = deps.store.onEventsCommitted(({ userIds, changes }) => void bus.publish({ type: "logsGrew", userIds, changes }));
  const tokens = new TokenService(deps.secrets.tokenSecret, { resourceId: deps.secrets.resourceId, clock });
  const identity = new IdentityService({ store: deps.store, tokens, clock, uuid, resourceId: deps.secrets.resourceId, bus });
  const chat = new ChatService({ store: deps.store, clock, uuid, bus });
  const streamOptions = { ...DEFAULT_STREAM_OPTIONS, ...deps.stream };
  const gateway = new EventGateway({ store: deps.store, bus, identity, clock, options: streamOptions });
  const corsOrigins = deps.corsOrigins ?? "*";
  const trouter = new Trouter({ store: deps.store, bus, identity, clock, log: fastify.log, corsOrigins, ...(deps.trouter && { options: deps.trouter }) });
  const hmac = new HmacVerifier(deps.secrets.accessKey, { clock, maxSkewMs: deps.hmacMaxSkewMs ?? 15 * 60 * 1000 });

  const webhookStore = deps.webhooks?.store ?? new MemoryWebhookStore();
  const webhookOptions = resolveWebhookOptions(deps.webhooks?.options, deps.secrets.resourceId);
  const dispatcher = new WebhookDispatcher({ store: deps.store, webhooks: webhookStore, options: webhookOptions, clock, random: deps.random ?? Math.random, log: fastify.log });
  const webhooks = new WebhookService({ store: webhookStore, dispatcher, options: webhookOptions, clock, uuid, log: fastify.log });

  const pipeline = new Pipeline(fastify, { hmac, identity, corsOrigins });
  identityRoutes(pipeline, identity);
  threadRoutes(pipeline, chat);
  messageRoutes(pipeline, chat);
  participantRoutes(pipeline, chat);
  receiptRoutes(pipeline, chat);
  serviceRoutes(pipeline, { isReady: () => ready, onRealtimeConfig: (userId) => trouter.noteConfig(userId) });
  trouter.routes(fastify);
  webhookRoutes(pipeline, webhooks, webhookOptions);

  // Idempotency keys only need to outlive client retry windows; event logs keep the retention
  // promised to reconnecting clients (docs/realtime.md).
  // Threads whose retention policy ran out are deleted on the same schedule and once at start.
  const housekeeping = () => {
    deps.store.purgeIdempotencyKeys(clock() - IDEMPOTENCY_KEY_LIFETIME_MS).catch((err) => fastify.log.warn({ err }, "idempotency purge failed"));
    deps.store.pruneEvents(clock() - streamOptions.retentionHours * 3600_000).catch((err) => fastify.log.warn({ err }, "event pruning failed"));
    deps.store.expireThreads(clock()).then(
      (ids) => ids.length > 0 && fastify.log.info({ threads: ids.length }, "threads deleted by retention policy"),
      (err) => fastify.log.warn({ err }, "retention sweep failed"),
    );
  };
  const purge = setInterval(housekeeping, 60 * 60 * 1000);
  purge.unref();
  housekeeping();

  await fastify.ready();
  try {
    await dispatcher.start();
    if (deps.webhooks?.config) await webhooks.applyConfig(deps.webhooks.config);
  } catch (error) {
    clearInterval(purge);
    await dispatcher.stop();
    await webhooks.close();
    stopAnnouncing();
    await trouter.close();
    await fastify.close();
    throw error;
  }
  return {
    fastify,
    handler: handler!,
    upgrade: upgradeRouter([[TROUTER_PATHS.websocketPrefix, (req, socket, head) => trouter.handleUpgrade(req, socket, head)]], (req, socket, head) =>
      gateway.handleUpgrade(req, socket, head),
    ),
    gateway,
    trouter,
    bus,
    webhooks,
    identity,
    chat,
    setReady: (value) => {
      ready = value;
      // Shutdown began: Trouter clients are told to go now rather than holding the drain open.
      if (!value) void trouter.close();
    },
    close: async () => {
      clearInterval(purge);
      ready = false;
      await trouter.close();
      await gateway.close();
      // In-flight deliveries finish (or are cut after a grace period and retried on the next start).
      await webhooks.close();
      await dispatcher.stop();
      stopAnnouncing();
      if (!deps.bus) await bus.close();
      await fastify.close();
    },
  };
}

/** WebSocket upgrades by path prefix; everything else goes to the fallback (the event stream, which 404s unknown paths). */
function upgradeRouter(routes: Array<[prefix: string, handler: UpgradeHandler]>, fallback: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const route = routes.find(([prefix]) => path.startsWith(prefix));
    (route?.[1] ?? fallback)(req, socket, head);
  };
}
