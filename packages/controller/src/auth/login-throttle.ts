/**
 * Slows password guessing without letting anyone lock a user out. Failed logins are counted in a sliding window per
 * username and client address together, per address, and per username from everywhere; once a count reaches its
 * limit, further attempts it covers are refused until the oldest failure leaves the window. The per-username count
 * (against guessing from many addresses) does not apply to the addresses the user has logged in from before, so
 * failures others cause can never keep a user out of their account from their usual address.
 * In memory, per controller process: a restart forgets the counts, which costs an attacker one window at most.
 * @module
 */

export interface LoginThrottleOptions {
  /** Failures of one username from one address within the window that block that pair. */
  maxFailuresPerUser?: number;
  /**
   * Failures of one username from any address that block it from addresses it has not logged in from before; high,
   * since it only stops guessing spread over many addresses.
   */
  maxFailuresPerUserEverywhere?: number;
  /** Addresses remembered per username as ones it logged in from. */
  knownAddressesPerUser?: number;
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
  private readonly maxPerUserEverywhere: number;
  private readonly knownPerUser: number;
  /** Per username (lowercased), the addresses it last logged in from, most recent last; bounded like `failures`. */
  private readonly known = new Map<string, string[]>();
  private readonly maxPerAddress: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxTrackedKeys: number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxPerUser = options.maxFailuresPerUser ?? 10;
    this.maxPerUserEverywhere = options.maxFailuresPerUserEverywhere ?? 100;
    this.knownPerUser = options.knownAddressesPerUser ?? 8;
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
   * A correct password clears the count of the username at this address, and makes the address one the username is
   * known at. The address's own count stays, or an attacker could clear it by logging in to an account of their own
   * between guesses; so does the username's count from everywhere, which only other addresses meet.
   */
  recordSuccess(attempt: LoginAttempt): void {
    this.failures.delete(pairKey(attempt));
    const user = attempt.username.toLowerCase();
    const addresses = (this.known.get(user) ?? []).filter((address) => address !== attempt.address);
    addresses.push(attempt.address);
    this.known.delete(user);
    this.known.set(user, addresses.slice(-this.knownPerUser));
    while (this.known.size > this.maxTrackedKeys) this.known.delete(this.known.keys().next().value!);
  }

  private keysOf(attempt: LoginAttempt): [string, number][] {
    const keys: [string, number][] = [
      [pairKey(attempt), this.maxPerUser],
      [`address:${attempt.address}`, this.maxPerAddress],
    ];
    // Failures from a known address count towards it too, but it is never refused on that count.
    keys.push([userKey(attempt.username), this.isKnown(attempt) ? Infinity : this.maxPerUserEverywhere]);
    return keys;
  }

  private isKnown(attempt: LoginAttempt): boolean {
    return this.known.get(attempt.username.toLowerCase())?.includes(attempt.address) ?? false;
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

function pairKey(attempt: LoginAttempt): string {
  return `pair:${attempt.username.toLowerCase()}@${attempt.address}`;
}
