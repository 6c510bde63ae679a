/**
 * A Docker registry on 127.0.0.1 for the tests of pulling (no other registry is reachable here): it serves images
 * saved from the local engine under new names, refuses repositories under `denied/` (401, as a registry wanting a
 * login does) and `forbidden/` (403), and knows nothing else (404). Started with a login, it answers nothing, not
 * even its version check, without that login (basic auth). It speaks just enough of the registry API v2 for the
 * engine's pull. Used by tests only.
 * @module
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type Docker from 'dockerode';

export interface TestRegistry {
  /** `127.0.0.1:<port>`, the first part of the image names it serves. */
  host: string;
  /** `METHOD path` of every request, to tell whether the engine asked at all. */
  requests: string[];
  /** Serves `image` of the local engine as `<host>/<repository>:<tag>`. */
  serve(image: string, repository: string, tag: string): Promise<void>;
  close(): Promise<void>;
}

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The files of an uncompressed tar archive (ustar, as `docker save` writes it). */
function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const text = (start: number, end: number) => header.subarray(start, end).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(text(124, 136).trim() || '0', 8);
    const prefix = text(345, 500);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const type = text(156, 157);
    if (type === '0' || type === '') files.set(name, archive.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

async function saved(docker: Docker, image: string): Promise<Buffer> {
  const stream = await docker.getImage(image).get();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startTestRegistry(docker: Docker, login?: { username: string; password: string }): Promise<TestRegistry> {
  const expectedAuthorization = login ? `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` : null;
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0]!;
    requests.push(`${request.method} ${path}`);
    const answer = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      response.writeHead(status, { 'docker-distribution-api-version': 'registry/2.0', 'content-length': String(bytes.length), ...headers });
      response.end(request.method === 'HEAD' ? undefined : bytes);
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      answer(status, JSON.stringify({ errors: [{ code, message }] }), { 'content-type': 'application/json', ...headers });
    // The engine learns from the version check's challenge that this registry wants basic auth, and only then logs in.
    if (expectedAuthorization && request.headers.authorization !== expectedAuthorization) {
      return error(401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="test-registry"' });
    }
    if (path === '/v2/' || path === '/v2') return answer(200, '{}', { 'content-type': 'application/json' });
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!match) return error(404, 'NOT_FOUND', 'not found');
    const [, repository = '', kind, reference = ''] = match;
    if (repository.startsWith('denied/')) return error(401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="test-registry"' });
    if (repository.startsWith('forbidden/')) return error(403, 'DENIED', 'requested access to the resource is denied');
    if (kind === 'blobs') {
      const blob = blobs.get(reference);
      return blob ? answer(200, blob, { 'content-type': 'application/octet-stream', 'docker-content-digest': reference }) : error(404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    }
    const manifest = manifests.get(`${repository}:${reference}`) ?? [...manifests.values()].find((m) => digestOf(m) === reference);
    if (!manifest) return error(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    return answer(200, manifest, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': digestOf(manifest) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    host,
    requests,
    async serve(image, repository, tag) {
      const files = untar(await saved(docker, image));
      const [entry] = JSON.parse(files.get('manifest.json')?.toString() ?? '[]') as Array<{ Config: string; Layers: string[] }>;
      if (!entry) throw new Error(`docker save of ${image} has no manifest.json`);
      const config = files.get(entry.Config);
      if (!config) throw new Error(`docker save of ${image} lacks ${entry.Config}`);
      blobs.set(digestOf(config), config);
      const layers = entry.Layers.map((name) => {
        const layer = files.get(name);
        if (!layer) throw new Error(`docker save of ${image} lacks ${name}`);
        const compressed = gzipSync(layer);
        blobs.set(digestOf(compressed), compressed);
        return { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: compressed.length, digest: digestOf(compressed) };
      });
      const manifest = {
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: digestOf(config) },
        layers,
      };
      manifests.set(`${repository}:${tag}`, Buffer.from(JSON.stringify(manifest)));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
