/**
 * Slows password guessing: failed logins are counted per username and per client address in a sliding window, and
 * once either count reaches its limit, further attempts are refused until the oldest failure leaves the window.
 * In memory, per controller process: a restart forgets the counts, which costs an attacker one window at most.
 * @module
 */

export interface LoginThrottleOptions {
  /** Failures of one username within the window that block it. */
  maxFailuresPerUser?: number;
  /** Failures from one address within the window that block it; higher, since many people may share one address. */
  maxFailuresPerAddress?: number;
  windowMs?: number;
  /** Milliseconds since the epoch; tests pass their own clock. */
  now?: () => number;
  /** Bounds the memory an attacker can make us use by trying many usernames. */
  maxTrackedKeys?: number;
}

export interface LoginAttempt {
  username: string;
  address: string;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly maxPerUser: number;
  private readonly maxPerAddress: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxTrackedKeys: number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxPerUser = options.maxFailuresPerUser ?? 10;
    this.maxPerAddress = options.maxFailuresPerAddress ?? 30;
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.now = options.now ?? (() => Date.now());
    this.maxTrackedKeys = options.maxTrackedKeys ?? 100_000;
  }

  /** Seconds until the attempt may be made, or 0 when it may be made now. */
  retryAfterSeconds(attempt: LoginAttempt): number {
    const now = this.now();
    let waitMs = 0;
    for (const [key, limit] of this.keysOf(attempt)) {
      const recent = this.recent(key, now);
      if (recent.length >= limit) waitMs = Math.max(waitMs, recent[recent.length - limit]! + this.windowMs - now);
    }
    return Math.ceil(waitMs / 1000);
  }

  recordFailure(attempt: LoginAttempt): void {
    const now = this.now();
    for (const [key] of this.keysOf(attempt)) {
      const recent = this.recent(key, now);
      recent.push(now);
      // Re-inserting keeps the map in least-recently-failed order, so eviction drops the stalest key.
      this.failures.delete(key);
      this.failures.set(key, recent);
    }
    while (this.failures.size > this.maxTrackedKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  /**
   * A correct password clears the username's count. The address's count stays, or an attacker could clear it by
   * logging in to an account of their own between guesses.
   */
  recordSuccess(attempt: LoginAttempt): void {
    this.failures.delete(userKey(attempt.username));
  }

  private keysOf(attempt: LoginAttempt): [string, number][] {
    return [
      [userKey(attempt.username), this.maxPerUser],
      [`address:${attempt.address}`, this.maxPerAddress],
    ];
  }

  /** The key's failures still inside the window, oldest first. */
  private recent(key: string, now: number): number[] {
    const all = this.failures.get(key);
    if (!all) return [];
    const recent = all.filter((at) => at > now - this.windowMs);
    if (recent.length === 0) this.failures.delete(key);
    else if (recent.length !== all.length) this.failures.set(key, recent);
    return recent;
  }
}

function userKey(username: string): string {
  return `user:${username.toLowerCase()}`;
}
