/**
 * One push per app at a time. A lock is held from the moment git starts receiving until the push (and its build)
 * has ended, however it ended, so an interrupted push never leaves an app locked.
 * @module
 */

/** The contract's exact refusal for a second concurrent push to the same app. */
export const PUSH_ONGOING = 'Another git push is ongoing';

export class PushLocks {
  readonly #held = new Set<string>();

  /** Takes the app's lock, or returns null when a push to the app is ongoing. The returned release is idempotent. */
  tryAcquire(app: string): (() => void) | null {
    if (this.#held.has(app)) return null;
    this.#held.add(app);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(app);
    };
  }

  isHeld(app: string): boolean {
    return this.#held.has(app);
  }
}
