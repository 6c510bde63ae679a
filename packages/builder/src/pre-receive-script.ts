/**
 * The pre-receive hook installed into every app repository. It runs inside `git receive-pack` (so inside the push,
 * before any ref moves), hands the pushed refs to the builder over the builder's unix socket, relays the builder's
 * output to the pusher, and exits with the builder's verdict, so a failed build rejects the push.
 *
 * The script is valid both as CommonJS and as an ES module (no import statement, no top-level await), because
 * Node decides that from the nearest package.json, which depends on where the data directory lives.
 * @module
 */

/** The hook's environment: set on every git process the builder starts. */
export const SOCKET_ENV = 'DEIS_BUILDER_SOCKET';
export const PUSH_ENV = 'DEIS_BUILDER_PUSH';

/** The git variables that let another process read the objects of a push still in quarantine. */
export const QUARANTINE_ENV = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'] as const;

const BODY = `
const socketPath = process.env.${SOCKET_ENV};
const push = process.env.${PUSH_ENV};
if (!socketPath || !push) {
  process.stderr.write('This repository accepts pushes only through the Deis builder.\\n');
  process.exit(1);
}
const gitEnv = {};
for (const name of ${JSON.stringify(QUARANTINE_ENV)}) if (process.env[name]) gitEnv[name] = process.env[name];
let refs = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { refs += chunk; });
process.stdin.on('end', () => {
  import('node:net').then(({ createConnection }) => {
    let exitCode = 1;
    let buffered = '';
    const socket = createConnection(socketPath);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ push, refs, gitEnv }) + '\\n'));
    socket.on('data', (chunk) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\\n')) >= 0) {
        const message = JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (typeof message.out === 'string') process.stdout.write(message.out);
        if (typeof message.exit === 'number') exitCode = message.exit;
      }
    });
    socket.on('error', (error) => {
      process.stderr.write('The builder is not reachable: ' + error.message + '\\n');
      process.exit(1);
    });
    socket.on('close', () => process.exit(exitCode));
  });
});
`;

/** The hook file's text, run by this very Node executable. */
export function preReceiveScript(nodePath: string = process.execPath): string {
  return `#!${nodePath}\n// Installed by the Deis builder; rewritten whenever the builder starts a push.\n${BODY}`;
}
