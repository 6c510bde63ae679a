/**
 * The generation of the routing table. Anything that changes what the router serves (a deploy, a domain, a setting)
 * calls `changed()`; the router reports the generation it has applied, and a deploy waits for it before it stops the
 * old containers, so that no request reaches a container that is going away. Generations count per controller
 * process; when controllers share a store (ADR 0021), `share()` adds the store-wide side: a rollout's switch is a
 * numbered change in the store, each table a router gets records which change it covers, and the rollout waits until
 * the routers of every controller have confirmed it, whichever controller they poll.
 * @module
 */
import { EventEmitter } from 'node:events';

/** The store-wide side of routing changes and their confirmations (routing/shared-routing.ts). */
export interface SharedRouting {
  /** Counts one change in the store, after the writes it covers; resolves with its number. */
  publish(): Promise<number>;
  /** The store's change count now: a table read after this covers every change up to it. */
  current(): Promise<number>;
  /** Records that a router of this controller applied a table covering changes up to `change`. */
  confirm(change: number): Promise<void>;
  /** A router of this controller polls: it is alive even if it had nothing to apply for a while. */
  polled(): void;
  /** Resolves true once every controller with live routers has confirmed `change`; false after `timeoutMs`. */
  waitConfirmed(change: number, timeoutMs: number): Promise<boolean>;
}

/** Tables a router may still report having applied: enough for any number of routers a few changes behind. */
const REMEMBERED_TABLES = 256;

export class RoutingState {
  #generation = 1;
  #applied = 0;
  #routerSeen = false;
  readonly #events = new EventEmitter();
  #shared: SharedRouting | null = null;
  /** Per generation served, the store's change count its tables were read after (the least, if several). */
  readonly #covers = new Map<number, number>();

  get generation(): number {
    return this.#generation;
  }

  get applied(): number {
    return this.#applied;
  }

  /** Marks the table as changed and returns the generation that includes the change. */
  changed(): number {
    this.#generation += 1;
    this.#events.emit('changed', this.#generation);
    return this.#generation;
  }

  /** Called when the router reports what it has applied. */
  markApplied(generation: number): void {
    this.#routerSeen = true;
    if (generation > this.#applied) {
      this.#applied = generation;
      this.#events.emit('applied', generation);
    }
    const covered = this.#covers.get(generation);
    if (this.#shared && covered !== undefined) this.#shared.confirm(covered).catch(() => undefined);
  }

  /** Called when a router asks for the table. */
  markPolled(): void {
    this.#shared?.polled();
  }

  /** Joins (or, with null, leaves) the store-wide routing of controllers that share a store. */
  share(shared: SharedRouting | null): void {
    this.#shared = shared;
    this.#covers.clear();
  }

  /**
   * The generation of a table about to be read (before reading anything else). When shared, it also notes which
   * store-wide change the table covers, so that the router's report of the generation confirms that change.
   */
  async tableGeneration(): Promise<number> {
    const generation = this.#generation;
    const shared = this.#shared;
    if (!shared) return generation;
    const change = await shared.current().catch(() => null);
    if (change !== null && this.#shared === shared) {
      const known = this.#covers.get(generation);
      this.#covers.set(generation, known === undefined ? change : Math.min(known, change));
      while (this.#covers.size > REMEMBERED_TABLES) this.#covers.delete(this.#covers.keys().next().value!);
    }
    return generation;
  }

  /**
   * A change every router must have applied before the caller goes on (a rollout's switch, ADR 0006): marks the
   * table changed and resolves true once the routers have applied it, false after `timeoutMs`. Shared, "the routers"
   * are those of every controller on the store; alone, this controller's.
   */
  async switched(timeoutMs: number): Promise<boolean> {
    const shared = this.#shared;
    if (shared) {
      let change: number | null = null;
      try {
        change = await shared.publish();
      } catch {
        // The store cannot count it: wait as a controller alone does, for the routers polling this one.
      }
      if (change !== null) {
        this.changed();
        return shared.waitConfirmed(change, timeoutMs);
      }
    }
    return this.waitApplied(this.changed(), timeoutMs);
  }

  /**
   * Resolves once a generation newer than `after` exists, or after `timeoutMs`, or when `signal` aborts (the poller
   * went away, or the server closes); for the router's long poll.
   */
  async waitChange(after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#generation > after) return;
    await this.#waitFor('changed', (g) => g > after, timeoutMs, signal);
  }

  /**
   * Resolves true once the router has applied `generation`. With no router ever connected (the controller on its own)
   * there is nothing to wait for, and it resolves true at once.
   */
  async waitApplied(generation: number, timeoutMs: number): Promise<boolean> {
    if (!this.#routerSeen || this.#applied >= generation) return true;
    return this.#waitFor('applied', (g) => g >= generation, timeoutMs);
  }

  /** Calls `listener` after every change (routing-relay.ts tells the other controllers); returns the unsubscribe. */
  onChanged(listener: (generation: number) => void): () => void {
    this.#events.on('changed', listener);
    return () => this.#events.off('changed', listener);
  }

  #waitFor(event: 'changed' | 'applied', done: (generation: number) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.#events.off(event, listener);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const listener = (generation: number) => {
        if (done(generation)) finish(true);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#events.on(event, listener);
      if (signal?.aborted) finish(false);
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
