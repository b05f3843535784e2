/** A tiny typed event emitter (no `events` module, so it runs in browsers without polyfills). */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

export class Emitter<M extends { [K in keyof M]: AnyListener }> {
  private readonly listeners = new Map<keyof M, Set<AnyListener>>();

  on<K extends keyof M>(event: K, listener: M[K]): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  off<K extends keyof M>(event: K, listener: M[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  count(event: keyof M): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener; one that throws does not stop the others (its error is re-thrown async). */
  emit<K extends keyof M>(event: K, ...args: Parameters<M[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
