/**
 * Sends one drain's lines: RFC 5424 syslog messages, octet-counted (RFC 6587) over one TCP or TLS connection, or in
 * batches POSTed to an HTTPS URL (`application/logplex-1`, as Heroku's drains). Whatever the drain does, the app and
 * the platform never wait for it: lines wait in a bounded queue (the oldest are dropped and counted when it is full),
 * a refused or broken connection or a failed POST is retried with exponential back-off, and lines leave the queue in
 * order. A drain may not reach loopback, private, link-local or the platform's own addresses unless the platform
 * allows it (DEIS_LOG_DRAINS_ALLOW_PRIVATE): a tenant must not use a drain to talk to what only the host can reach.
 * @module
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import type { LookupFunction, Socket } from 'node:net';
import { rootCertificates, connect as tlsConnect } from 'node:tls';
import type { TimedLine } from '../logs/log-buffer.ts';
import type { DrainTarget } from './drain-url.ts';

export interface DrainSenderOptions {
  /** Drains may reach loopback and private addresses (tests, a collector on the host). */
  allowPrivate: boolean;
  /** Lines held while the drain is slow or away; default 10,000. */
  maxQueued?: number;
  /** Certificates (PEM) trusted besides the system's, for TLS and HTTPS drains (DEIS_LOG_DRAINS_CA_FILE). */
  extraCa?: string;
  /** Called when the drain goes away or comes back, with a text that names the drain only masked. */
  onProblem?: (message: string) => void;
}

export interface DrainSender {
  push(line: TimedLine): void;
  close(): void;
  stats(): { queued: number; dropped: number; sent: number };
}

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;
const BATCH_LINES = 500;
const BATCH_WAIT_MS = 100;

/** Characters RFC 5424 allows in its header fields (printable US-ASCII, no space), at most `max` of them. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/**
 * The RFC 5424 message of a log line (`<time> <source>[<process>]: <text>`): facility user, severity info, the app
 * as the host name, the line's source (the app, or `deis` for the platform's events) as APP-NAME and its process
 * (`web.v3.x1y2z`, `controller`) as PROCID.
 */
export function syslogMessage(appId: string, line: TimedLine): string {
  const match = /^\S+ ([^\s[]+)\[([^\]]*)\]: ([\s\S]*)$/.exec(line.text);
  const [source, process, text] = match ? [match[1] ?? '', match[2] ?? '', match[3] ?? ''] : [appId, '', line.text];
  return `<14>1 ${new Date(line.at).toISOString()} ${headerField(appId, 255)} ${headerField(source, 48)} ${headerField(process, 128)} - - ${text}`;
}

/** RFC 6587 octet counting: `<length> <message>`, the length in bytes. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

/** Addresses a drain may not reach unless allowed: loopback, private, link-local, shared (the platform's 100.64/10), unspecified. */
export function isRestrictedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? (mapped[1] as string) : address;
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || a >= 224;
  }
  const lower = ip.toLowerCase();
  return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || /^ff/.test(lower);
}

/** A DNS lookup that refuses restricted addresses, so the check holds whatever the name resolves to at connect time. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, options, (error, address: string | LookupAddress[], family?: number) => {
      if (error || allowPrivate) return callback(error, address, family);
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      if (addresses.some(isRestrictedAddress)) return callback(new Error(`${hostname} resolves to an address drains may not reach`), address, family);
      callback(null, address, family);
    });
  }) as LookupFunction;
}

function refusedLiteral(host: string, allowPrivate: boolean): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return !allowPrivate && isIP(bare) !== 0 && isRestrictedAddress(bare);
}

/** The queue, back-off and bookkeeping both kinds share. */
class Outbox {
  readonly lines: string[] = [];
  dropped = 0;
  sent = 0;
  backoffMs = FIRST_BACKOFF_MS;
  failing = false;
  readonly #max: number;
  readonly #onProblem: (message: string) => void;
  readonly #name: string;

  constructor(max: number, name: string, onProblem: (message: string) => void) {
    this.#max = max;
    this.#name = name;
    this.#onProblem = onProblem;
  }

  add(message: string): void {
    this.lines.push(message);
    if (this.lines.length > this.#max) {
      this.lines.shift();
      this.dropped += 1;
    }
  }

  failed(reason: string): number {
    if (!this.failing) this.#onProblem(`log drain ${this.#name} failed, retrying with back-off: ${reason}`);
    this.failing = true;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    return wait;
  }

  succeeded(): void {
    if (this.failing) this.#onProblem(`log drain ${this.#name} works again${this.dropped > 0 ? `; ${this.dropped} lines were dropped so far while it was slow or away` : ''}`);
    this.failing = false;
    this.backoffMs = FIRST_BACKOFF_MS;
  }
}

export function createDrainSender(target: DrainTarget, appId: string, maskedUrl: string, options: DrainSenderOptions): DrainSender {
  const outbox = new Outbox(options.maxQueued ?? 10_000, maskedUrl, options.onProblem ?? (() => undefined));
  const ca = options.extraCa ? [...rootCertificates, options.extraCa] : undefined;
  const sender = target.kind === 'https' ? httpsSender(target.url, outbox, options.allowPrivate, ca) : syslogSender(target, outbox, options.allowPrivate, ca);
  return {
    push(line) {
      outbox.add(octetFrame(syslogMessage(appId, line)));
      sender.wake();
    },
    close: () => sender.close(),
    stats: () => ({ queued: outbox.lines.length, dropped: outbox.dropped, sent: outbox.sent }),
  };
}

interface Pump {
  wake(): void;
  close(): void;
}

function syslogSender(target: DrainTarget, outbox: Outbox, allowPrivate: boolean, ca: string[] | undefined): Pump {
  let socket: Socket | null = null;
  let ready = false;
  let waiting: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.url.port);

  const retry = (reason: string) => {
    socket?.destroy();
    socket = null;
    ready = false;
    if (closed || waiting) return;
    waiting = setTimeout(() => {
      waiting = undefined;
      connect();
    }, outbox.failed(reason));
  };
  const pump = () => {
    while (socket && ready && outbox.lines.length > 0) {
      const frame = outbox.lines.shift() as string;
      outbox.sent += 1;
      // Past the socket's buffer the lines wait in the bounded queue, not in memory the socket would grow.
      if (!socket.write(frame)) {
        ready = false;
        socket.once('drain', () => {
          ready = true;
          pump();
        });
        return;
      }
    }
  };
  const connect = () => {
    if (closed || socket || waiting) return;
    if (refusedLiteral(host, allowPrivate)) return retry(`${host} is an address drains may not reach`);
    const options = { host, port, lookup: guardedLookup(allowPrivate), timeout: CONNECT_TIMEOUT_MS };
    const opened = target.kind === 'syslog+tls' ? tlsConnect({ ...options, ...(ca ? { ca } : {}), ...(isIP(host) ? {} : { servername: host }) }) : netConnect(options);
    socket = opened;
    opened.once(target.kind === 'syslog+tls' ? 'secureConnect' : 'connect', () => {
      opened.setTimeout(0);
      ready = true;
      outbox.succeeded();
      pump();
    });
    opened.once('timeout', () => opened.destroy(new Error('connection timed out')));
    opened.once('error', (error: Error) => {
      if (socket === opened) retry(error.message);
    });
    opened.once('close', () => {
      if (socket === opened) retry('connection closed');
    });
    // The collector is not expected to say anything; whatever it does say is read and dropped.
    opened.resume();
  };
  return {
    wake() {
      if (socket) pump();
      else connect();
    },
    close() {
      closed = true;
      clearTimeout(waiting);
      socket?.destroy();
      socket = null;
    },
  };
}

function httpsSender(url: URL, outbox: Outbox, allowPrivate: boolean, ca: string[] | undefined): Pump {
  let busy = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const auth = url.username !== '' || url.password !== '' ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');

  const post = (batch: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      if (refusedLiteral(host, allowPrivate)) return reject(new Error(`${host} is an address drains may not reach`));
      const body = batch.join('');
      const request = httpsRequest(
        {
          host,
          port: url.port || 443,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          ...(auth ? { auth } : {}),
          headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(batch.length), 'content-length': String(Buffer.byteLength(body)) },
          lookup: guardedLookup(allowPrivate),
          timeout: CONNECT_TIMEOUT_MS,
          ...(ca ? { ca } : {}),
        },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`answered ${status}`));
        },
      );
      request.once('timeout', () => request.destroy(new Error('timed out')));
      request.once('error', reject);
      request.end(body);
    });

  const send = async () => {
    timer = undefined;
    if (busy || closed || outbox.lines.length === 0) return;
    busy = true;
    const batch = outbox.lines.slice(0, BATCH_LINES);
    let wait = 0;
    try {
      await post(batch);
      // The queue may have dropped its oldest lines meanwhile; what was sent is whatever of the batch is still first.
      let sent = 0;
      while (sent < batch.length && outbox.lines[0] === batch[sent]) {
        outbox.lines.shift();
        sent += 1;
      }
      outbox.sent += batch.length;
      outbox.succeeded();
    } catch (error) {
      wait = outbox.failed(error instanceof Error ? error.message : String(error));
    } finally {
      busy = false;
    }
    if (!closed && outbox.lines.length > 0) timer = setTimeout(() => void send(), wait);
  };
  return {
    wake() {
      if (!busy && !timer && !closed) timer = setTimeout(() => void send(), BATCH_WAIT_MS);
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
