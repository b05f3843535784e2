/**
 * The Bus carries notices between the parts of Parley that write (chat and identity services, the
 * store's commit hook) and the parts that deliver (the event-stream gateway, later webhooks), on
 * this node or, with a Redis driver, on every node.
 *
 * Notices are lossy-tolerant by design: durable events travel as "this user's log grew" (with the
 * committed events attached, as a shortcut), and the log stays the truth: a gateway that cannot use
 * the shortcut reads the log itself, so a missed notice delays nothing past the next one and loses
 * nothing. Ephemeral signals (typing, read receipts) exist only on the bus.
 */
import type { CommittedChange } from "../store/index.js";

export interface EphemeralSignal {
  name: "typingIndicatorReceived" | "readReceiptReceived";
  threadId: string;
  senderId: string;
  senderDisplayName?: string;
  at: number;
  /** Read receipts: the message read. */
  chatMessageId?: string;
}

export type BusNotice =
  /**
   * These users' durable event logs have new entries. `changes`, when present, are those entries
   * (each event once, with every recipient's seq): a consumer whose cursor is right before an
   * entry can deliver it without reading the log; any other consumer reads the log as usual.
   */
  | { type: "logsGrew"; userIds: string[]; changes?: CommittedChange[] }
  /** A live-only signal for these users (not stored, not replayed). */
  | { type: "ephemeral"; userIds: string[]; signal: EphemeralSignal }
  /** This user's tokens changed (revoked or user deleted): re-check open connections. */
  | { type: "tokensChanged"; userId: string };

export interface Bus {
  readonly driver: string;
  publish(notice: BusNotice): Promise<void>;
  /** Returns an unsubscribe function. Listeners must not throw; errors are contained per listener. */
  subscribe(listener: (notice: BusNotice) => void): () => void;
  close(): Promise<void>;
}

/**
 * In-process Bus: delivery on the next microtask, in publish order, to every subscriber. Notices are
 * handed over as they are, not copied (a copy of a 1,000-recipient notice cost more than its
 * delivery): publishers and subscribers treat them as read-only.
 */
export class LocalBus implements Bus {
  readonly driver = "local";
  private readonly listeners = new Set<(notice: BusNotice) => void>();
  private closed = false;

  async publish(notice: BusNotice): Promise<void> {
    if (this.closed) return;
    queueMicrotask(() => {
      for (const listener of this.listeners) {
        try {
          listener(notice);
        } catch {
          // One failing subscriber must not starve the others.
        }
      }
    });
  }

  subscribe(listener: (notice: BusNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
