/**
 * The lines a pusher sees (git shows each as `remote: …`), worded as the Deis v2 builder words them (contract §6.1).
 * @module
 */

export const STARTING_BUILD = 'Starting build... but first, coffee!';
export const BUILD_COMPLETE = 'Build complete.';
export const LAUNCHING = 'Launching App...';

export function deployedLines(app: string, version: number): string[] {
  return [
    `Done, ${app}:v${version} deployed to Workflow`,
    "Use 'deis open' to view this application in your browser",
    "To learn more, use 'deis help' or visit https://deis.com/",
  ];
}

export function declaredTypesLine(procfile: Record<string, string>): string {
  const types = Object.keys(procfile);
  return types.length > 0 ? `Procfile declares types -> ${types.join(', ')}` : 'No Procfile found; the image CMD runs as process type cmd';
}

/**
 * Reassembles a stream of text chunks into whole lines, so that each line the engine writes reaches the pusher once,
 * complete, whatever the chunking. Carriage-return progress updates collapse to their last state.
 */
export class LineSplitter {
  #pending = '';

  push(chunk: string): string[] {
    this.#pending += chunk;
    const parts = this.#pending.split('\n');
    this.#pending = parts.pop() ?? '';
    return parts.map(lastCarriageReturnSegment);
  }

  flush(): string[] {
    const rest = this.#pending;
    this.#pending = '';
    return rest === '' ? [] : [lastCarriageReturnSegment(rest)];
  }
}

function lastCarriageReturnSegment(line: string): string {
  const segments = line.split('\r').filter((s) => s !== '');
  return segments.at(-1) ?? '';
}
