/** Trouter emulation tuning. Client-side timers it must respect are in docs/realtime.md. */
export type TrouterTransport = "websocket" | "xhr-polling";

export interface TrouterOptions {
  /** Advertised in the socket.io handshake; the client drops a transport silent for this + 2 s. */
  heartbeatSec: number;
  closeSec: number;
  /** How often the server sends `2::` (must stay well under heartbeatSec). */
  heartbeatIntervalMs: number;
  /** How long an xhr-polling GET is held before it is answered with a noop. */
  pollHoldMs: number;
  /** Offered in this order in the handshake. */
  transports: TrouterTransport[];
  /** How long an allocation's connect handle (`sr`) is accepted by the handshake. */
  allocationTtlMs: number;
  /** How long a handshaken session id waits for its transport. */
  handshakeTtlMs: number;
  /** How long an endpoint (one ChatClient, by its `epid`) keeps its cursor between sockets. */
  endpointIdleMs: number;
  /** Endpoints kept per user; the longest idle one goes first. */
  endpointsPerUser: number;
  /** Deliveries awaiting the client's response, per socket (flow control; memory bound). */
  window: number;
  /** A socket whose oldest delivery has gone unanswered this long is closed (the client reconnects and gets it again). */
  responseTimeoutMs: number;
  /** Live-only events (typing, read receipts) kept for an endpoint between sockets, and for how long. */
  pendingSignals: number;
  pendingSignalMaxAgeMs: number;
  /** A typing indicator older than this is not worth delivering late (the UI drops it after 8 s). */
  typingMaxAgeMs: number;
  /** How long after GET /chat/config/realTimeNotifications a new endpoint starts from that moment. */
  configMarkMs: number;
  /** Log entries read per batch. */
  readBatch: number;
  /** Fault injection for tests: behave like a broken server. Never set in production. */
  faults: TrouterFaults;
}

export interface TrouterFaults {
  /** Do not ack `user.activity` (the client reconnects after 10 s). */
  ignoreUserActivity?: boolean;
  /** Do not ack `ping` (the client reconnects 5 s after its 40 s ping). */
  ignorePing?: boolean;
  /** Never send `trouter.connected` (the client gives up after 20 s). */
  withholdConnected?: boolean;
  /** Answer every allocation 503 (the client backs off and retries), e.g. to hold a client between sockets. */
  refuseAllocations?: boolean;
  /** Answer allocations with a `socketio` URL that has a path (the client never connects). */
  socketioPath?: string;
}

export const DEFAULT_TROUTER_OPTIONS: TrouterOptions = {
  heartbeatSec: 60,
  closeSec: 60,
  heartbeatIntervalMs: 25_000,
  pollHoldMs: 20_000,
  transports: ["websocket", "xhr-polling"],
  allocationTtlMs: 120_000,
  handshakeTtlMs: 30_000,
  endpointIdleMs: 60 * 60_000,
  endpointsPerUser: 32,
  window: 32,
  responseTimeoutMs: 30_000,
  pendingSignals: 32,
  pendingSignalMaxAgeMs: 60_000,
  typingMaxAgeMs: 8_000,
  configMarkMs: 60_000,
  readBatch: 64,
  faults: {},
};
