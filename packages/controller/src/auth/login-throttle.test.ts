import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.ts';

function throttleWithClock(options: ConstructorParameters<typeof LoginThrottle>[0] = {}): { throttle: LoginThrottle; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { throttle: new LoginThrottle({ ...options, now: () => now }), advance: (ms) => (now += ms) };
}

const alice = { username: 'alice', address: '100.64.0.9' };

describe('LoginThrottle', () => {
  it('blocks a username at an address after 10 failures within 5 minutes, until the oldest leaves the window', () => {
    const { throttle, advance } = throttleWithClock();
    for (let i = 0; i < 10; i += 1) {
      expect(throttle.retryAfterSeconds(alice)).toBe(0);
      throttle.recordFailure(alice);
      advance(1_000);
    }
    // The first failure was 10 s ago: it leaves the window in 290 s.
    expect(throttle.retryAfterSeconds(alice)).toBe(290);
    // The same username from another address is not blocked: failures elsewhere cannot keep its owner out.
    expect(throttle.retryAfterSeconds({ username: 'alice', address: '100.64.0.10' })).toBe(0);
    expect(throttle.retryAfterSeconds({ username: 'bob', address: '100.64.0.9' })).toBe(0);
    advance(289_000);
    expect(throttle.retryAfterSeconds(alice)).toBe(1);
    advance(1_000);
    expect(throttle.retryAfterSeconds(alice)).toBe(0);
  });

  it('never locks a user out of their usual address, however many failures come from elsewhere', () => {
    const { throttle } = throttleWithClock({ maxFailuresPerUserEverywhere: 20 });
    throttle.recordSuccess(alice);
    // An attacker spread over many addresses, each below its own limits.
    for (let i = 0; i < 50; i += 1) throttle.recordFailure({ username: 'alice', address: `198.51.100.${i}` });
    expect(throttle.retryAfterSeconds(alice)).toBe(0);
    // A new address meets the count from everywhere, which stops guessing spread over many addresses.
    expect(throttle.retryAfterSeconds({ username: 'alice', address: '198.51.100.200' })).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds({ username: 'ALICE', address: '198.51.100.200' })).toBeGreaterThan(0);
  });

  it('treats usernames case-insensitively', () => {
    const { throttle } = throttleWithClock({ maxFailuresPerUser: 2 });
    throttle.recordFailure({ username: 'Alice', address: 'a' });
    throttle.recordFailure({ username: 'alice', address: 'a' });
    expect(throttle.retryAfterSeconds({ username: 'ALICE', address: 'a' })).toBeGreaterThan(0);
  });

  it('blocks an address that fails across many usernames', () => {
    const { throttle } = throttleWithClock({ maxFailuresPerAddress: 5 });
    for (let i = 0; i < 5; i += 1) throttle.recordFailure({ username: `user${i}`, address: '100.64.0.9' });
    expect(throttle.retryAfterSeconds({ username: 'fresh', address: '100.64.0.9' })).toBe(300);
    expect(throttle.retryAfterSeconds({ username: 'fresh', address: '100.64.0.8' })).toBe(0);
  });

  it('clears the username at the address on success but not the address', () => {
    const { throttle } = throttleWithClock({ maxFailuresPerUser: 3, maxFailuresPerAddress: 3 });
    for (let i = 0; i < 3; i += 1) throttle.recordFailure(alice);
    throttle.recordSuccess(alice);
    expect(throttle.retryAfterSeconds({ username: 'alice', address: 'elsewhere' })).toBe(0);
    expect(throttle.retryAfterSeconds(alice)).toBeGreaterThan(0);
  });

  it('forgets the stalest keys beyond its bound', () => {
    const { throttle } = throttleWithClock({ maxFailuresPerUser: 1, maxFailuresPerAddress: 1000, maxTrackedKeys: 6 });
    throttle.recordFailure({ username: 'first', address: 'x' });
    expect(throttle.retryAfterSeconds({ username: 'first', address: 'x' })).toBeGreaterThan(0);
    for (const username of ['u1', 'u2', 'u3']) throttle.recordFailure({ username, address: 'y' });
    expect(throttle.retryAfterSeconds({ username: 'first', address: 'x' })).toBe(0);
    expect(throttle.retryAfterSeconds({ username: 'u3', address: 'y' })).toBeGreaterThan(0);
  });
});
