/**
 * The CLI's commands about itself: `version`, `shortcuts`, `completion`.
 * @module
 */
import { API_VERSION } from '@deis/sdk/types';
import { UsageError } from '../cli-errors.ts';
import { COMMANDS } from '../command-table.ts';
import { flagOption } from '../command-spec.ts';
import type { CommandSpec } from '../command-spec.ts';
import { bashCompletion, zshCompletion } from '../completion-script.ts';
import { SHORTCUTS } from '../shortcuts.ts';
import { CLI_VERSION } from '../version.ts';

export const metaCommands: CommandSpec[] = [
  {
    name: 'version',
    summary: 'Displays the client version.',
    options: { all: { type: 'boolean', short: 'a', description: 'also show the API and platform versions of the logged-in controller.' } },
    json: true,
    async run(ctx, { values }) {
      if (!flagOption(values, 'all')) {
        if (ctx.json) ctx.emit({ client: CLI_VERSION });
        else ctx.say(CLI_VERSION);
        return;
      }
      const session = await ctx.session();
      const response = await session.client.request('GET', '/v2/');
      const server = { api: response.headers.get('deis_api_version'), platform: response.headers.get('deis_platform_version') };
      if (ctx.json) return void ctx.emit({ client: CLI_VERSION, client_api: API_VERSION, server_api: server.api, server_platform: server.platform, controller: session.profile.controller });
      ctx.say(`Deis CLI Version:            ${CLI_VERSION}`);
      ctx.say(`Deis CLI API Version:        ${API_VERSION}`);
      ctx.say(`Deis Controller:             ${session.profile.controller}`);
      ctx.say(`Deis Controller API Version: ${server.api ?? 'unknown'}`);
      ctx.say(`Deis Platform Version:       ${server.platform ?? 'unknown'}`);
    },
  },
  {
    name: 'shortcuts',
    summary: 'Shows the shortcut aliases of the commands.',
    json: true,
    async run(ctx) {
      if (ctx.json) return void ctx.emit(SHORTCUTS);
      for (const name of Object.keys(SHORTCUTS).sort()) ctx.say(`${name} -> ${SHORTCUTS[name]}`);
    },
  },
  {
    name: 'completion',
    summary: 'Prints a shell completion script.',
    details: 'bash: source <(deis completion bash)   zsh: source <(deis completion zsh)',
    args: [{ name: 'shell', required: true, description: "'bash' or 'zsh'." }],
    async run(ctx, { positionals }) {
      const shell = positionals[0];
      if (shell === 'bash') ctx.io.stdout.write(bashCompletion(COMMANDS, { ...SHORTCUTS }));
      else if (shell === 'zsh') ctx.io.stdout.write(zshCompletion(COMMANDS, { ...SHORTCUTS }));
      else throw new UsageError(`no completion for '${shell}': choose bash or zsh`);
    },
  },
];
