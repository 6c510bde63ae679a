/**
 * `keys:*`: the SSH public keys that authenticate the user's `git push`.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Key } from '@deis/sdk/types';
import { CliError } from '../cli-errors.ts';
import type { CommandContext } from '../command-context.ts';
import type { CommandSpec } from '../command-spec.ts';
import { accountListCommand } from '../list-command.ts';
import { homeDir } from '../profile.ts';

interface PublicKeyFile {
  path: string;
  text: string;
  comment: string;
}

const KEY_LINE = /^(ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-\S+)\s+([A-Za-z0-9+/=]+)(?:\s+(.*))?$/;

function readKeyFile(path: string): PublicKeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const match = KEY_LINE.exec(text.split('\n')[0]!.trim());
  if (!match) throw new CliError(`${path} is not an SSH public key (expected a line like 'ssh-ed25519 AAAA... user@host')`);
  return { path, text: text.split('\n')[0]!.trim(), comment: (match[3] ?? '').trim() };
}

async function chooseKeyFile(ctx: CommandContext): Promise<PublicKeyFile> {
  const sshDir = join(homeDir(ctx.io.env), '.ssh');
  let names: string[] = [];
  try {
    names = readdirSync(sshDir).filter((name) => name.endsWith('.pub')).sort();
  } catch {
    names = [];
  }
  const keys = names.flatMap((name) => {
    try {
      return [readKeyFile(join(sshDir, name))];
    } catch {
      return [];
    }
  });
  if (keys.length === 0) throw new CliError(`No SSH public keys found in ${sshDir}.`, { hint: "Create one with 'ssh-keygen -t ed25519', or pass a path: deis keys:add <path-to-key.pub>." });
  if (keys.length === 1) return keys[0]!;
  ctx.say('Found the following SSH public keys:');
  keys.forEach((key, index) => ctx.say(`${index + 1}) ${basename(key.path)} ${key.comment}`.trimEnd()));
  ctx.say('0) Enter path to pubfile (or use keys:add <key_path>)');
  const answer = await ctx.ask('Which would you like to use with Deis? ');
  if (answer === '0') return readKeyFile(resolve(ctx.io.cwd, await ctx.ask('Enter the path to the pubkey file: ')));
  const choice = Number(answer);
  if (!Number.isInteger(choice) || choice < 1 || choice > keys.length) throw new CliError(`'${answer}' is not one of the choices 0-${keys.length}.`);
  return keys[choice - 1]!;
}

/** The key's name: the given one, else its comment (user@host), else the file name without `.pub`. */
function keyName(file: PublicKeyFile, given: string | undefined): string {
  return given || file.comment.split(/\s+/)[0] || basename(file.path).replace(/\.pub$/, '');
}

function abbreviate(publicKey: string): string {
  const [type, blob] = publicKey.split(/\s+/);
  if (!blob) return publicKey;
  return `${type} ${blob.slice(0, 5)}...${blob.slice(-10)}`;
}

export const keyCommands: CommandSpec[] = [
  accountListCommand<Key>({
    name: 'keys:list',
    summary: 'Lists SSH keys for the logged in user.',
    path: '/v2/keys/',
    heading: (session) => `${session.profile.username} Keys`,
    line: (key) => `${key.id} ${abbreviate(key.public)}`,
  }),
  {
    name: 'keys:add',
    summary: 'Adds an SSH key for the logged in user.',
    details: 'With no <key>, uses the one public key in ~/.ssh, or asks which one when there are several.',
    args: [
      { name: 'name', description: 'the name of the key (default: the key comment, else the file name). When it is the only argument and names a file, it is the <key>.' },
      { name: 'key', description: 'the path to an SSH public key file, e.g. ~/.ssh/id_ed25519.pub.' },
    ],
    json: true,
    async run(ctx, { positionals }) {
      let [name, path] = positionals;
      if (name !== undefined && path === undefined && (name.includes('/') || name.endsWith('.pub'))) {
        path = name;
        name = undefined;
      }
      const file = path !== undefined ? readKeyFile(resolve(ctx.io.cwd, path.replace(/^~(?=\/)/, homeDir(ctx.io.env)))) : await chooseKeyFile(ctx);
      const session = await ctx.session();
      const id = keyName(file, name);
      const { data } = await ctx.progress(`Uploading ${basename(file.path)} to deis... `, () => session.client.request<Key>('POST', '/v2/keys/', { body: { id, public: file.text } }));
      if (ctx.json) ctx.emit(data);
    },
  },
  {
    name: 'keys:remove',
    summary: 'Removes an SSH key for the logged in user.',
    args: [{ name: 'key', required: true, description: 'the SSH public key id to revoke.' }],
    async run(ctx, { positionals }) {
      const session = await ctx.session();
      const id = positionals[0]!;
      await ctx.progress(`Removing ${id} SSH Key... `, () => session.client.request('DELETE', `/v2/keys/${encodeURIComponent(id)}`));
    },
  },
];
