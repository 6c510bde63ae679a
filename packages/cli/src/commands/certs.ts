/**
 * `certs:*`: TLS certificates (read from PEM files) and their attachment to domains.
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Cert } from '@deis/sdk/types';
import { CliError } from '../cli-errors.ts';
import { limitCount } from '../command-context.ts';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { limitOption } from '../list-command.ts';

function readPem(cwd: string, path: string, kind: 'certificate' | 'private key'): string {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the ${kind} file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (!/-----BEGIN [A-Z ]+-----/.test(text)) throw new CliError(`${path} is not a PEM ${kind} (no -----BEGIN line)`);
  return text;
}

function shortDate(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '';
}

const nameArg = { name: 'name', required: true, description: 'the name of the certificate.' };

export const certCommands: CommandSpec[] = [
  {
    name: 'certs:list',
    summary: 'Lists the SSL certificates of the current user.',
    json: true,
    options: { ...limitOption },
    async run(ctx, { values }) {
      const session = await ctx.session();
      const page = await ctx.list<Cert>(session, '/v2/certs/', stringOption(values, 'limit'));
      if (ctx.json) return void ctx.emit(page.results);
      if (page.results.length === 0) return void ctx.say('No certs');
      const rows = [['Name', 'Common Name', 'SubjectAltName', 'Expires', 'Fingerprint', 'Domains', 'Updated', 'Created']];
      for (const cert of page.results) {
        rows.push([cert.name, cert.common_name ?? '', cert.san.join(','), shortDate(cert.expires), `${cert.fingerprint.slice(0, 17)}[...]`, cert.domains.join(','), shortDate(cert.updated), shortDate(cert.created)]);
      }
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
      if (page.results.length < page.count) ctx.say(`=== Certs${limitCount(page.results.length, page.count)}`);
      for (const row of rows) ctx.say(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
    },
  },
  {
    name: 'certs:add',
    summary: 'Binds a certificate/key pair to an application.',
    args: [nameArg, { name: 'cert', required: true, description: 'the path to the PEM certificate file.' }, { name: 'key', required: true, description: 'the path to the PEM private key file.' }],
    json: true,
    async run(ctx, { positionals }) {
      const [name, certPath, keyPath] = positionals as [string, string, string];
      const certificate = readPem(ctx.io.cwd, certPath, 'certificate');
      const key = readPem(ctx.io.cwd, keyPath, 'private key');
      const session = await ctx.session();
      const { data } = await ctx.progress('Adding SSL endpoint... ', () => session.client.request<Cert>('POST', '/v2/certs/', { body: { name, certificate, key } }));
      if (ctx.json) ctx.emit(data);
    },
  },
  {
    name: 'certs:remove',
    summary: 'Removes a certificate (it is detached from its domains).',
    args: [nameArg],
    async run(ctx, { positionals }) {
      const session = await ctx.session();
      const name = positionals[0]!;
      await ctx.progress(`Removing ${name}... `, () => session.client.request('DELETE', `/v2/certs/${name}`));
    },
  },
  {
    name: 'certs:info',
    summary: 'Prints information about a certificate.',
    args: [nameArg],
    json: true,
    async run(ctx, { positionals }) {
      const session = await ctx.session();
      const name = positionals[0]!;
      const { data: cert } = await session.client.request<Cert>('GET', `/v2/certs/${name}`);
      if (ctx.json) return void ctx.emit(cert);
      ctx.say(`=== ${cert.name} Certificate`);
      ctx.say(`Common Name(s):     ${cert.common_name ?? ''}`);
      ctx.say(`Expires At:         ${cert.expires}`);
      ctx.say(`Starts At:          ${cert.starts}`);
      ctx.say(`Fingerprint:        ${cert.fingerprint}`);
      ctx.say(`Subject Alt Name:   ${cert.san.join(',')}`);
      ctx.say(`Issuer:             ${cert.issuer}`);
      ctx.say(`Subject:            ${cert.subject}`);
      ctx.say('');
      ctx.say(`Connected Domains:  ${cert.domains.length ? cert.domains.join(',') : 'No connected domains'}`);
      ctx.say(`Owner:              ${cert.owner}`);
      ctx.say(`Created:            ${cert.created}`);
      ctx.say(`Updated:            ${cert.updated}`);
    },
  },
  {
    name: 'certs:attach',
    summary: 'Attaches a certificate to a domain.',
    args: [nameArg, { name: 'domain', required: true, description: 'a domain already added to one of your apps.' }],
    async run(ctx, { positionals }) {
      const [name, domain] = positionals as [string, string];
      const session = await ctx.session();
      await ctx.progress(`Attaching certificate ${name} to domain ${domain}... `, () => session.client.request('POST', `/v2/certs/${name}/domain/`, { body: { domain } }));
    },
  },
  {
    name: 'certs:detach',
    summary: 'Detaches a certificate from a domain.',
    args: [nameArg, { name: 'domain', required: true, description: 'the domain to detach the certificate from.' }],
    async run(ctx, { positionals }) {
      const [name, domain] = positionals as [string, string];
      const session = await ctx.session();
      await ctx.progress(`Detaching certificate ${name} from domain ${domain}... `, () => session.client.request('DELETE', `/v2/certs/${name}/domain/${encodeURIComponent(domain)}`));
    },
  },
];
