/**
 * Every command of the CLI, found by name or shortcut.
 * @module
 */
import type { CommandSpec } from './command-spec.ts';
import { appCommands } from './commands/apps.ts';
import { toggleCommands } from './commands/app-toggles.ts';
import { authCommands } from './commands/auth.ts';
import { autoscaleCommands } from './commands/autoscale.ts';
import { buildCommands } from './commands/builds.ts';
import { certCommands } from './commands/certs.ts';
import { configMapCommands } from './commands/config-maps.ts';
import { configCommands } from './commands/config.ts';
import { domainCommands } from './commands/domains.ts';
import { drainCommands } from './commands/drains.ts';
import { gitCommands } from './commands/git.ts';
import { healthcheckCommands } from './commands/healthchecks.ts';
import { keyCommands } from './commands/keys.ts';
import { labelCommands } from './commands/labels.ts';
import { metaCommands } from './commands/meta.ts';
import { nodeCommands } from './commands/nodes.ts';
import { permCommands } from './commands/perms.ts';
import { psCommands } from './commands/ps.ts';
import { releaseCommands } from './commands/releases.ts';
import { whitelistCommands } from './commands/whitelist.ts';
import { SHORTCUTS } from './shortcuts.ts';

export const COMMANDS: readonly CommandSpec[] = [
  ...authCommands,
  ...appCommands,
  ...autoscaleCommands,
  ...buildCommands,
  ...certCommands,
  ...configCommands,
  ...domainCommands,
  ...drainCommands,
  ...gitCommands,
  ...healthcheckCommands,
  ...keyCommands,
  ...labelCommands,
  ...configMapCommands.filter((spec) => spec.name.startsWith('limits:')),
  ...toggleCommands.filter((spec) => spec.name.startsWith('maintenance:')),
  ...permCommands.filter((spec) => spec.name.startsWith('perms:')),
  ...psCommands,
  ...configMapCommands.filter((spec) => spec.name.startsWith('registry:')),
  ...releaseCommands,
  ...toggleCommands.filter((spec) => spec.name.startsWith('routing:')),
  ...configMapCommands.filter((spec) => spec.name.startsWith('tags:')),
  ...toggleCommands.filter((spec) => spec.name.startsWith('tls:')),
  ...permCommands.filter((spec) => spec.name.startsWith('users:')),
  ...whitelistCommands,
  ...nodeCommands,
  ...metaCommands,
];

const byName = new Map(COMMANDS.map((spec) => [spec.name, spec]));

/** The command a typed name means: its own name, a shortcut. */
export function findCommand(typed: string): CommandSpec | undefined {
  return byName.get(typed) ?? byName.get(SHORTCUTS[typed] ?? '');
}

export function commandsOfTopic(topic: string): CommandSpec[] {
  return COMMANDS.filter((spec) => spec.name.startsWith(`${topic}:`));
}
