/**
 * The generation of the routing table. Anything that changes what the router serves (a deploy, a domain, a setting)
 * calls `changed()`; the router reports the generation it has applied, and a deploy waits for it before it stops the
 * old containers, so that no request reaches a container that is going away.
 * @module
 */
import { EventEmitter } from 'node:events';

export class RoutingState {
  #generation = 1;
  #applied = 0;
  #routerSeen = false;
  readonly #events = new EventEmitter();

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
