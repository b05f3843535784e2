/**
 * One Trouter endpoint: a ChatClient's `epid` (registration id), bound to its user. It outlives
 * sockets: it keeps a cursor into the user's durable event log, so events produced while the
 * client is between sockets are delivered after its next `trouter.connected` — without a queue.
 *
 * Delivery reads the log from the cursor (like Parley's own event stream) and keeps at most
 * `window` deliveries unanswered per socket; the cursor advances only over deliveries the client
 * answered, so a socket that dies mid-flight costs a redelivery (the SDK and the UI library
 * upsert by id), never a loss. Live-only signals (typing, read receipts) go straight to the
 * socket, or wait in a small bounded list while there is none.
 */
import type { FastifyBaseLogger } from "fastify";
import type { Store } from "../store/index.js";
import type { EphemeralSignal } from "../realtime/bus.js";
import type { TrouterOptions } from "./options.js";
import type { Session } from "./session.js";
import { renderLogPayload, renderSignalPayload, type TrouterPayload } from "./payloads.js";

export interface EndpointHost {
  readonly store: Store;
  readonly options: TrouterOptions;
  readonly log: FastifyBaseLogger;
  /** Delivery outcomes across endpoints (diagnostics and tests). */
  readonly counters: DeliveryCounters;
  clock(): number;
}

export interface DeliveryCounters {
  delivered: number;
  /** Answered 200. */
  handled: number;
  /** Answered 404: the SDK could not parse the payload (or nobody listens for its eventId). */
  rejected: number;
  /** Answered anything else (504: the client's own 5 s timeout). */
  failed: number;
}

interface InFlight {
  /** The log entry delivered; null for a live-only signal. */
  seq: number | null;
  eventId: number;
  at: number;
}

export class Endpoint {
  session: Session | undefined;
  /** Every durable event with seq ≤ cursor has been answered by the client. */
  cursor: number;
  /** Highest seq handed to the current socket. */
  private sent: number;
  /**
   * Every event of this user up to this seq is at or below `sent` (a read that came back short
   * covered the feed up to its head), so reads start here rather than at `sent`, which for a quiet
   * user can be far behind the feed.
   */
  private considered: number;
  private readonly inFlight = new Map<number, InFlight>();
  private pending: EphemeralSignal[] = [];
  private pumping = false;
  private dirty = false;
  lastActive: number;
  registration: { path: string; ttlSec: number; at: number } | undefined;
  /** Unregistered while its socket was still closing: forgotten once the socket is gone. */
  stopped = false;

  constructor(
    readonly userId: string,
    readonly epid: string,
    cursor: number,
    private readonly host: EndpointHost,
  ) {
    this.cursor = cursor;
    this.sent = cursor;
    this.considered = cursor;
    this.lastActive = host.clock();
  }

  /** A new socket for this endpoint: it replaces any older one (the client has moved on). */
  attach(session: Session): void {
    const previous = this.session;
    this.session = session;
    this.reset();
    if (previous && previous !== session) previous.close("replaced by a newer connection", true);
  }

  /** `trouter.connected` reached the client: flush what waited, then read the log. */
  connected(session: Session): void {
    if (session !== this.session) return;
    const now = this.host.clock();
    const { pendingSignalMaxAgeMs, typingMaxAgeMs } = this.host.options;
    const pending = this.pending;
    this.pending = [];
    for (const signal of pending) {
      const maxAge = signal.name === "typingIndicatorReceived" ? typingMaxAgeMs : pendingSignalMaxAgeMs;
      if (now - signal.at <= maxAge) this.sendSignal(session, signal);
    }
    void this.pump();
  }

  detached(session: Session): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.reset();
    this.lastActive = this.host.clock();
  }

  /** The user's log grew. */
  notify(): void {
    if (this.session?.connected) void this.pump();
  }

  signal(signal: EphemeralSignal): void {
    const session = this.session;
    if (session?.connected) return this.sendSignal(session, signal);
    this.pending.push(signal);
    if (this.pending.length > this.host.options.pendingSignals) this.pending.shift();
  }

  /** A hand-made payload, delivered like a live signal; false without a connected socket. */
  deliverRaw(payload: TrouterPayload): boolean {
    const session = this.session;
    if (!session?.connected) return false;
    this.send(session, payload, null);
    return true;
  }

  onResponse(session: Session, id: number, status: number): void {
    if (session !== this.session) return;
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.inFlight.delete(id);
    const counters = this.host.counters;
    if (status === 200) counters.handled++;
    else if (status === 404) counters.rejected++;
    else counters.failed++;
    if (status === 404) {
      this.host.log.warn({ eventId: entry.eventId, seq: entry.seq }, "trouter: the client rejected the payload (404)");
    } else if (status !== 200) {
      this.host.log.info({ eventId: entry.eventId, seq: entry.seq, status }, "trouter: delivery answered with an error");
    }
    this.advanceCursor();
    if (entry.seq !== null) void this.pump();
  }

  /** When the oldest unanswered delivery went out, if any. */
  oldestUnanswered(): number | undefined {
    let oldest: number | undefined;
    for (const entry of this.inFlight.values()) if (oldest === undefined || entry.at < oldest) oldest = entry.at;
    return oldest;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private reset(): void {
    // Unanswered deliveries go out again, so reading restarts at the cursor if any were durable.
    if ([...this.inFlight.values()].some((e) => e.seq !== null)) this.considered = this.cursor;
    this.inFlight.clear();
    this.sent = this.cursor;
  }

  private advanceCursor(): void {
    let lowest = Infinity;
    for (const entry of this.inFlight.values()) if (entry.seq !== null && entry.seq < lowest) lowest = entry.seq;
    this.cursor = lowest === Infinity ? this.sent : lowest - 1;
  }

  private sendSignal(session: Session, signal: EphemeralSignal): void {
    if (!session.hasRoomForSignals() || this.inFlight.size >= this.host.options.window * 4) {
      this.host.log.info({ name: signal.name }, "trouter: live signal dropped for a stalled client");
      return;
    }
    this.send(session, renderSignalPayload(signal, this.userId), null);
  }

  private send(session: Session, payload: TrouterPayload, seq: number | null): void {
    const id = session.deliver(payload);
    this.host.counters.delivered++;
    this.inFlight.set(id, { seq, eventId: payload.eventId, at: this.host.clock() });
  }

  /** Delivers the log after `sent` while the window has room; notices during a read re-run it. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.dirty = true;
      return;
    }
    this.pumping = true;
    this.dirty = false;
    try {
      const { window, readBatch } = this.host.options;
      for (;;) {
        const session = this.session;
        if (!session?.connected) return;
        const durableInFlight = [...this.inFlight.values()].filter((e) => e.seq !== null).length;
        const room = window - durableInFlight;
        if (room <= 0) return; // answers re-run the pump
        const from = this.sent;
        const latest = await this.host.store.changesHead();
        const wanted = Math.min(room, readBatch);
        const batch = await this.host.store.readEvents(this.userId, Math.max(from, this.considered), wanted);
        if (this.session !== session || !session.connected || this.sent !== from) return;
        if (batch.length < wanted) this.considered = Math.max(this.considered, latest, batch.at(-1)?.seq ?? 0);
        if (batch.length === 0) return;
        for (const record of batch) {
          let payload: TrouterPayload;
          try {
            payload = renderLogPayload(record);
          } catch (err) {
            this.host.log.error({ err, seq: record.seq, name: record.name }, "trouter: could not render a log entry; skipped");
            this.sent = record.seq;
            continue;
          }
          this.send(session, payload, record.seq);
          this.sent = record.seq;
        }
        this.advanceCursor();
      }
    } catch (err) {
      this.host.log.error({ err }, "trouter: reading the event log failed");
    } finally {
      this.pumping = false;
      if (this.dirty) {
        this.dirty = false;
        void this.pump();
      }
    }
  }
}
