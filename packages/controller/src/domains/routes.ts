/**
 * `/v2/apps/{app}/domains/`: list, add and remove the host names routed to an app (contract §1.2).
 * @module
 */
import { NotFoundError, ValidationError } from '@deis/core/errors';
import type { FastifyInstance } from 'fastify';
import type { ControllerDeps } from '../deps.ts';
import { recordEvent } from '../events/event-log.ts';
import { loadApp } from '../http/app-access.ts';
import { bodyOf } from '../http/body.ts';
import { pageWindow, toPage } from '../http/pagination.ts';
import { deleteAppDomain, findDomain, insertDomain, pageAppDomains, toWireDomain } from './domain-store.ts';
import { domainForLookup, isWithin, normalizeDomain } from './hostname.ts';

type AppParams = { app: string };
type DomainParams = { app: string; domain: string };

function inUse(domain: string): ValidationError {
  return ValidationError.field('domain', `The domain ${domain} is already in use by another app`);
}

/**
 * Names the router gives to apps and to the platform itself: a bare name is served as `<name>.<platform domain>`, so
 * a bare name other than the app's own, or any name under the platform domain, would take a host that is not the
 * app's to take.
 */
function checkNotPlatformHost(domain: string, appId: string, platformDomain: string): void {
  const bare = !domain.includes('.');
  const platform = platformDomain.toLowerCase();
  const suffix = domain.replace(/^\*\./, '');
  const underPlatform = platform !== '' && isWithin(suffix, platform);
  // `*.example.com` with the platform at paas.example.com would receive every `*.paas.example.com` host no app
  // claims (a destroyed app's name included): a wildcard may not cover the platform domain from above either.
  const coversPlatform = platform !== '' && domain.startsWith('*.') && isWithin(platform, suffix);
  if ((bare && domain !== appId) || underPlatform || coversPlatform) {
    throw ValidationError.field('domain', `The domain ${domain} is reserved for the platform's own app and service names`);
  }
}

export async function domainRoutes(app: FastifyInstance, deps: ControllerDeps): Promise<void> {
  const { db } = deps;

  app.get<{ Params: AppParams }>('/v2/apps/:app/domains', async (request) => {
    const { app: row } = await loadApp(db, request, request.params.app);
    const window = pageWindow(request);
    const { count, rows } = await pageAppDomains(db, row.uuid, window);
    return toPage(request, window, count, rows.map(toWireDomain));
  });

  app.post<{ Params: AppParams }>('/v2/apps/:app/domains', async (request, reply) => {
    const { app: row, user } = await loadApp(db, request, request.params.app);
    const domain = normalizeDomain(bodyOf(request.body).domain);
    checkNotPlatformHost(domain, row.id, deps.settings.platformDomain);
    if (await findDomain(db, domain)) throw inUse(domain);
    try {
      await insertDomain(db, { appUuid: row.uuid, ownerId: user.id, domain });
    } catch (error) {
      // Two requests for the same name at once: the unique index decides, and the loser hears what the check says.
      if (await findDomain(db, domain)) throw inUse(domain);
      throw error;
    }
    deps.routing.changed();
    await recordEvent(db, row.uuid, `domain ${domain} added`);
    const created = await findDomain(db, domain);
    if (!created) throw NotFoundError.of('Domain');
    return reply.code(201).send(toWireDomain(created));
  });

  app.delete<{ Params: DomainParams }>('/v2/apps/:app/domains/:domain', async (request, reply) => {
    const { app: row } = await loadApp(db, request, request.params.app);
    const domain = domainForLookup(request.params.domain);
    // The row goes and its certificate link with it; the certificate itself stays with its owner.
    if (domain === null || !(await deleteAppDomain(db, row.uuid, domain))) throw NotFoundError.of('Domain');
    deps.routing.changed();
    await recordEvent(db, row.uuid, `domain ${domain} removed`);
    return reply.code(204).send();
  });
}
