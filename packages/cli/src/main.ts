/**
 * The `deis` executable: runs the CLI on this process's arguments and streams, then exits with its code.
 * @module
 */
import { CLI_VERSION } from './version.ts';

const argv = process.argv.slice(2);

function exit(code: number): void {
  // Exit once stdout has been flushed, so a kept-alive socket or a paused stdin cannot hold the process open.
  process.stdout.write('', () => process.exit(code));
}

// `deis apps | head` closes the pipe early; that is not a failure worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  // Scripts call this to probe for the CLI; it needs none of the command machinery, whose loading costs startup time.
  process.stdout.write(`${CLI_VERSION}\n`);
  exit(0);
} else {
  const { runCli } = await import('./run-cli.ts');
  exit(await runCli(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() }));
}
