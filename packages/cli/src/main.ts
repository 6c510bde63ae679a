/**
 * The `deis` executable: runs the CLI on this process's arguments and streams, then exits with its code.
 * @module
 */
import { runCli } from './run-cli.ts';

// `deis apps | head` closes the pipe early; that is not a failure worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });
// Exit once stdout has been flushed, so a kept-alive socket or a paused stdin cannot hold the process open.
process.stdout.write('', () => process.exit(code));
