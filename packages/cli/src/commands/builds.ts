/**
 * `builds:*`: list an app's builds (each with its type and process types) and deploy an existing image (`deis pull`).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Build } from '@deis/sdk/types';
import { stringOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { appListCommand } from '../list-command.ts';
import { parseProcfile } from '../procfile.ts';

/** How the build was made, by the contract's rule: a Dockerfile, else a git push (buildpack), else a pulled image. */
function buildType(build: Build): 'dockerfile' | 'buildpack' | 'image' {
  if (build.dockerfile !== '') return 'dockerfile';
  return build.sha !== '' ? 'buildpack' : 'image';
}

export const buildCommands: CommandSpec[] = [
  appListCommand<Build>({
    name: 'builds:list',
    summary: 'Lists build history for an application.',
    collection: 'builds',
    heading: 'Builds',
    line: (build) => `${build.uuid} ${build.created} ${buildType(build)}${Object.keys(build.procfile).length > 0 ? ` ${Object.keys(build.procfile).join(',')}` : ''}`,
  }),
  {
    name: 'builds:create',
    summary: 'Creates a new build of an application from a Docker image and deploys it.',
    details: 'Process types come from --procfile, else from ./Procfile when present; without either the image\'s CMD runs as the cmd type.',
    args: [{ name: 'image', required: true, description: "a fully-qualified docker image, either from Docker Hub (e.g. deis/example-go:latest) or from an in-house registry (e.g. myregistry.example.com:5000/example-go:latest)." }],
    options: { procfile: { type: 'string', short: 'p', valueName: '<procfile>', description: "a YAML string of process types and commands, e.g. 'web: ./server'." } },
    app: true,
    json: true,
    async run(ctx, { values, positionals }) {
      const given = stringOption(values, 'procfile');
      const localProcfile = join(ctx.io.cwd, 'Procfile');
      const procfile = given !== undefined ? parseProcfile(given.replace(/\\n/g, '\n'), '--procfile') : existsSync(localProcfile) ? parseProcfile(readFileSync(localProcfile, 'utf8'), 'Procfile') : undefined;
      const { session, app } = await ctx.appSession(values);
      const body: Record<string, unknown> = { image: positionals[0] };
      if (procfile) body.procfile = procfile;
      const { data } = await ctx.progress('Creating build... ', () => session.client.request<Build>('POST', `/v2/apps/${app}/builds/`, { body }));
      if (ctx.json) ctx.emit(data);
    },
  },
];
