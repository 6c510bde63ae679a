/**
 * `/v2/certs/`: a user's TLS certificates, and attaching them to the domains of apps the user may use (contract §1.2).
 * Certificates are private to their owner: anyone else gets the same 404 as for a name that does not exist.
 * @module
 */
import { ConflictError, MethodNotAllowedError, NotFoundError, PermissionDeniedError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAppById } from '../apps/app-store.ts';
import type { ControllerDeps } from '../deps.ts';
import { findDomain } from '../domains/domain-store.ts';
import { domainForLookup } from '../domains/hostname.ts';
import { mayUseApp } from '../http/app-access.ts';
import { currentUser } from '../http/auth.ts';
import { bodyOf } from '../http/body.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { readCertificate } from './certificate-pem.ts';
import { attachedDomains, certNameTaken, deleteCert, findOwnCert, insertCert, pageOwnCerts, setDomainCert, toWireCert } from './cert-store.ts';
import type { CertRow } from './cert-store.ts';

type NameParams = { name: string };
type DomainParams = { name: string; domain?: string };

const CERT_NAME = /^[a-z0-9-]+$/;
const MAX_NAME_LENGTH = 253;

async function certName(deps: ControllerDeps, raw: unknown): Promise<string> {
  if (raw === undefined || raw === null) throw ValidationError.field('name', 'This field is required.');
  if (typeof raw !== 'string') throw ValidationError.field('name', 'Not a valid string.');
  if (raw.trim() === '') throw ValidationError.field('name', 'This field may not be blank.');
  if (raw.length > MAX_NAME_LENGTH) throw ValidationError.field('name', `Ensure this field has no more than ${MAX_NAME_LENGTH} characters.`);
  if (!CERT_NAME.test(raw)) throw ValidationError.field('name', 'Can only contain a-z (lowercase), 0-9 and hyphens');
  if (await certNameTaken(deps.db, raw)) throw ValidationError.field('name', 'Certificate with this name already exists.');
  return raw;
}

/** Runs one field's check; a field error is added to `fields` (DRF reports every failing field at once). */
async function checkField<T>(fields: Record<string, string[]>, check: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await check();
  } catch (error) {
    if (!(error instanceof ValidationError) || !error.fields) throw error;
    for (const [field, messages] of Object.entries(error.fields)) fields[field] = [...(fields[field] ?? []), ...messages];
    return undefined;
  }
}

async function ownCert(deps: ControllerDeps, request: FastifyRequest, name: string): Promise<CertRow> {
  const cert = await findOwnCert(deps.db, currentUser(request).id, name);
  if (!cert) throw NotFoundError.of('Certificate');
  return cert;
}

async function wireCert(deps: ControllerDeps, cert: CertRow) {
  return toWireCert(cert, (await attachedDomains(deps.db, [cert.id])).get(cert.id) ?? []);
}

export async function certRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get('/v2/certs', async (request) => {
    const window = pageWindow(request);
    const { count, rows } = await pageOwnCerts(db, currentUser(request).id, window);
    const domains = await attachedDomains(db, rows.map((row) => row.id));
    return toPage(request, window, count, rows.map((row) => toWireCert(row, domains.get(row.id) ?? [])));
  });

  app.post('/v2/certs', async (request, reply) => {
    const user = currentUser(request);
    const body = bodyOf(request.body);
    const fields: Record<string, string[]> = {};
    const name = await checkField(fields, () => certName(deps, body.name));
    const facts = await checkField(fields, () => readCertificate(body.certificate, body.key));
    if (name === undefined || facts === undefined) throw new ValidationError('Invalid certificate.', { fields });
    try {
      await insertCert(db, { ownerId: user.id, name, certificate: String(body.certificate), key: String(body.key), facts });
    } catch (error) {
      if (await certNameTaken(db, name)) throw ValidationError.field('name', 'Certificate with this name already exists.');
      throw error;
    }
    return reply.code(201).send(await wireCert(deps, await ownCert(deps, request, name)));
  });

  app.get<{ Params: NameParams }>('/v2/certs/:name', async (request) => wireCert(deps, await ownCert(deps, request, request.params.name)));

  app.delete<{ Params: NameParams }>('/v2/certs/:name', async (request, reply) => {
    const cert = await ownCert(deps, request, request.params.name);
    if (await deleteCert(db, cert.id)) deps.routing.changed();
    return reply.code(204).send();
  });

  app.route<{ Params: NameParams }>({
    method: ['PUT', 'PATCH'],
    url: '/v2/certs/:name',
    handler: async (request) => {
      throw new MethodNotAllowedError(request.method);
    },
  });

  const attach = async (request: FastifyRequest<{ Params: DomainParams }>, reply: FastifyReply) => {
    const user = currentUser(request);
    const given = request.params.domain ?? bodyOf(request.body).domain;
    if (given === undefined || given === null || given === '') throw new ValidationError('domain is a required field');
    const cert = await ownCert(deps, request, request.params.name);
    const lookup = typeof given === 'string' ? domainForLookup(given) : null;
    const domain = lookup === null ? undefined : await findDomain(db, lookup);
    if (!domain) throw NotFoundError.of('Domain');
    const owningApp = await findAppById(db, domain.app_id);
    if (!owningApp || !(await mayUseApp(db, owningApp, user))) throw new PermissionDeniedError();
    if (domain.cert_id !== null) throw new ConflictError('Domain already has a certificate attached to it');
    await setDomainCert(db, domain.domain, cert.id);
    deps.routing.changed();
    return reply.code(201).send();
  };
  app.post<{ Params: DomainParams }>('/v2/certs/:name/domain', attach);
  app.post<{ Params: DomainParams }>('/v2/certs/:name/domain/:domain', attach);

  app.delete<{ Params: Required<DomainParams> }>('/v2/certs/:name/domain/:domain', async (request, reply) => {
    const cert = await ownCert(deps, request, request.params.name);
    const lookup = domainForLookup(request.params.domain);
    const domain = lookup === null ? undefined : await findDomain(db, lookup);
    // Detaching names the pair: a domain carrying another certificate is not this certificate's to detach.
    if (!domain || domain.cert_id !== cert.id) throw NotFoundError.of('Domain');
    await setDomainCert(db, domain.domain, null);
    deps.routing.changed();
    return reply.code(204).send();
  });
}
