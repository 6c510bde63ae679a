/**
 * The SSH server's host key: made once and kept, so that pushers' known_hosts entries stay valid across restarts.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
// ssh2 is CommonJS: Node's ESM loader (the bundled daemon) sees only its default export.
import ssh2 from 'ssh2';

/**
 * A new ed25519 host key pair. ssh2's generator writes, about once in 250 keys, a private key its own parser then
 * refuses ("Malformed OpenSSH private key"), which would stop the SSH server from starting; such a key is made again.
 */
export function generateHostKey(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'deis-builder host key' });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error('could not generate an ed25519 host key that ssh2 can read');
}

/** Reads the host key at `path`, generating an ed25519 key there first if there is none. */
export async function ensureHostKey(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = generateHostKey();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // `wx` so that two builders starting at once keep the first key rather than overwrite each other.
  try {
    await writeFile(path, pair.private, { mode: 0o600, flag: 'wx' });
    await writeFile(`${path}.pub`, `${pair.public}\n`, { mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFile(path);
}
