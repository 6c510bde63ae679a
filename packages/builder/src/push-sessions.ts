/**
 * A push in progress: which app, which user, the id its pre-receive hook presents to the builder, and the app's
 * push lock. The lock is released only once git has exited and the push's build has settled, so neither a finished
 * nor an interrupted push leaves the app locked, and no second build of an app can start beside a first.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { PushLocks } from './push-lock.ts';

export class PushSession {
  readonly id = randomBytes(18).toString('base64url');
  readonly app: string;
  readonly user: string;
  readonly #abort = new AbortController();
  readonly #builds = new Set<Promise<unknown>>();
  readonly #release: () => void;
  readonly #forget: () => void;
  #finished = false;

  constructor(app: string, user: string, release: () => void, forget: () => void) {
    this.app = app;
    this.user = user;
    this.#release = release;
    this.#forget = forget;
  }

  /** Aborted when the pusher went away: a build in progress stops. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Keeps the lock held until the build settles. */
  track(build: Promise<unknown>): void {
    const settled = build.then(
      () => undefined,
      () => undefined,
    );
    this.#builds.add(settled);
    void settled.then(() => this.#builds.delete(settled));
  }

  abort(): void {
    this.#abort.abort(new Error('the push was interrupted'));
  }

  /** Called once git has exited, however it exited. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#forget();
    await Promise.all([...this.#builds]);
    this.#release();
  }
}

export class PushSessions {
  readonly #locks = new PushLocks();
  readonly #sessions = new Map<string, PushSession>();

  /** Starts a push to the app, or returns null when another push to it is ongoing. */
  begin(app: string, user: string): PushSession | null {
    const release = this.#locks.tryAcquire(app);
    if (!release) return null;
    const session: PushSession = new PushSession(app, user, release, () => this.#sessions.delete(session.id));
    this.#sessions.set(session.id, session);
    return session;
  }

  find(id: string): PushSession | undefined {
    return this.#sessions.get(id);
  }

  isPushing(app: string): boolean {
    return this.#locks.isHeld(app);
  }

  /** Interrupts the pushes to one app, which was destroyed. */
  abortApp(app: string): void {
    for (const session of this.#sessions.values()) if (session.app === app) session.abort();
  }

  /** Interrupts every push, for shutdown. */
  abortAll(): void {
    for (const session of this.#sessions.values()) session.abort();
  }
}
