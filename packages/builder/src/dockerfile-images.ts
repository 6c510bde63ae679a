/**
 * The images a Dockerfile reads from: every `FROM`, `COPY --from` and `RUN --mount=…,from=` that names an image
 * rather than an earlier stage, `ONBUILD` triggers included. On one host every app's builds share the engine (ADR
 * 0007), so the builder asks the controller about each of them before the engine sees the Dockerfile; reading it the
 * way the engine does (parser directives, line continuations, ARG values in FROM, quotes) is what makes that check
 * mean anything. What cannot be read with certainty is refused rather than guessed.
 * @module
 */

/** A Dockerfile whose images cannot be known before the build; the message is what the pusher reads. */
export class DockerfileImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerfileImageError';
  }
}

export interface DockerfileImage {
  /** The reference as the engine will resolve it, variables substituted. */
  reference: string;
  /** The instruction as written, for the message: `FROM`, `COPY --from`, `RUN --mount`. */
  instruction: string;
  /** 1-based line of the Dockerfile where the instruction starts. */
  line: number;
}

interface LogicalLine {
  text: string;
  line: number;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;

/** The escape character of the parser directives at the top of the file (`# escape=\``); backslash otherwise. */
function escapeCharacter(lines: string[]): string {
  for (const raw of lines) {
    const match = DIRECTIVE.exec(raw.trim());
    if (!match) break;
    if (match[1]?.toLowerCase() === 'escape' && (match[2] === '`' || match[2] === '\\')) return match[2];
  }
  return '\\';
}

/** Joins continued lines as the engine does: comment and empty lines inside a continuation are skipped. */
function logicalLines(source: string, escape: string): LogicalLine[] {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const result: LogicalLine[] = [];
  let current: LogicalLine | null = null;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (current !== null && trimmed === '')) return;
    if (current === null && trimmed === '') return;
    const continued = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`).exec(raw);
    const part = continued ? raw.slice(0, continued.index) : raw;
    if (current === null) current = { text: part, line: index + 1 };
    else current.text += part;
    if (!continued) {
      result.push(current);
      current = null;
    }
  });
  if (current !== null) result.push(current);
  return result;
}

/** Splits on unquoted whitespace, keeping quotes and escapes for `expandWord`. */
function splitWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === escape && i + 1 < text.length && quote !== "'") {
      word += char + (text[i + 1] as string);
      i++;
    } else if (quote !== null) {
      if (char === quote) quote = null;
      word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word += char;
    } else if (/\s/.test(char)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += char;
    }
  }
  if (word !== '') words.push(word);
  return words;
}

/**
 * Substitutes `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}`, `${NAME-word}`, `${NAME+word}` and removes quotes
 * and escapes, as the engine's word processing does. Any other form is refused: a guess could differ from the engine's.
 */
export function expandWord(word: string, values: ReadonlyMap<string, string>, escape = '\\'): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < word.length; i++) {
    const char = word[i] as string;
    if (char === escape && quote !== "'" && i + 1 < word.length) {
      out += word[i + 1] as string;
      i++;
    } else if (quote === "'") {
      if (char === "'") quote = null;
      else out += char;
    } else if (char === '"') {
      quote = quote === '"' ? null : '"';
    } else if (char === "'" && quote === null) {
      quote = "'";
    } else if (char === '$') {
      const [value, end] = expandVariable(word, i, values, escape);
      out += value;
      i = end;
    } else {
      out += char;
    }
  }
  return out;
}

/** Expands the variable starting at `start` (the `$`); returns its value and the index of its last character. */
function expandVariable(word: string, start: number, values: ReadonlyMap<string, string>, escape: string): [string, number] {
  const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(start + 1));
  if (bare) return [values.get(bare[0]) ?? '', start + bare[0].length];
  if (word[start + 1] !== '{') throw new DockerfileImageError(`cannot read "${word}": a "$" that starts no variable`);
  let depth = 0;
  let end = -1;
  for (let i = start + 1; i < word.length; i++) {
    if (word[i] === '{') depth++;
    else if (word[i] === '}' && --depth === 0) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new DockerfileImageError(`cannot read "${word}": an unclosed "\${"`);
  const inner = word.slice(start + 2, end);
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(inner);
  if (!match?.[1]) throw new DockerfileImageError(`cannot read "${word}": only $NAME, \${NAME}, \${NAME:-word} and \${NAME:+word} are understood here`);
  const name = match[1];
  const operator = match[2];
  const isSet = values.has(name);
  const value = values.get(name) ?? '';
  if (operator === undefined) return [value, end];
  const alternative = (): string => expandWord(match[3] ?? '', values, escape);
  switch (operator) {
    case ':-':
      return [value !== '' ? value : alternative(), end];
    case '-':
      return [isSet ? value : alternative(), end];
    case ':+':
      return [value !== '' ? alternative() : '', end];
    default:
      return [isSet ? alternative() : '', end];
  }
}

/** `NAME=value` or `NAME` pairs of an ARG instruction; a value is expanded with the values known so far. */
function argDeclarations(words: string[], known: ReadonlyMap<string, string>, escape: string): Array<[string, string | null]> {
  return words.map((word) => {
    const equals = word.indexOf('=');
    if (equals < 0) return [word, null];
    return [word.slice(0, equals), expandWord(word.slice(equals + 1), known, escape)];
  });
}

/** Splits leading `--flag=value` words from the rest of an instruction's arguments. */
function flagsOf(words: string[]): { flags: Array<[string, string]>; rest: string[] } {
  const flags: Array<[string, string]> = [];
  let index = 0;
  for (; index < words.length; index++) {
    const word = words[index] as string;
    if (!word.startsWith('--')) break;
    const equals = word.indexOf('=');
    flags.push(equals < 0 ? [word.slice(2).toLowerCase(), ''] : [word.slice(2, equals).toLowerCase(), word.slice(equals + 1)]);
  }
  return { flags, rest: words.slice(index) };
}

/** The `from=` of a `--mount` value (comma-separated `key=value` fields). */
function mountSource(value: string): string | null {
  for (const field of value.split(',')) {
    const equals = field.indexOf('=');
    if (equals > 0 && field.slice(0, equals).trim().toLowerCase() === 'from') return field.slice(equals + 1).trim();
  }
  return null;
}

/**
 * The images `source` reads from, in order, each once per place it is named. `buildArgs` are the values the build is
 * given (they override the defaults of the ARGs declared before the first FROM, as the engine applies them).
 */
export function dockerfileImages(source: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileImage[] {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const escape = escapeCharacter(lines);
  const metaArgs = new Map<string, string>();
  const stages: string[] = [];
  const images: DockerfileImage[] = [];
  let sawFrom = false;

  const isStage = (name: string): boolean => stages.includes(name.toLowerCase()) || /^\d+$/.test(name);
  /** A `--from` names a stage or an image; variables there are not resolved the same way by every engine. */
  const copySource = (value: string, instruction: string, line: number, nested: boolean): void => {
    if (value.includes('$')) throw new DockerfileImageError(`line ${line}: ${instruction}=${value}: name the stage or image without variables`);
    const literal = expandWord(value, new Map(), escape);
    // An ONBUILD trigger runs in a Dockerfile not seen here, whose stages are unknown: only an index is surely one.
    const stage = nested ? /^\d+$/.test(literal) : isStage(literal);
    if (literal !== '' && !stage) images.push({ reference: literal, instruction, line });
  };

  const visit = (text: string, line: number, nested: boolean): void => {
    const words = splitWords(text.trim(), escape);
    const keyword = (words[0] ?? '').toUpperCase();
    const args = words.slice(1);
    switch (keyword) {
      case 'ONBUILD':
        if (nested) return;
        visit(text.trim().slice((words[0] as string).length), line, true);
        return;
      case 'ARG':
        if (sawFrom || nested) return;
        for (const [name, value] of argDeclarations(args, metaArgs, escape)) {
          const given = Object.hasOwn(buildArgs, name) ? buildArgs[name] : undefined;
          if (given !== undefined) metaArgs.set(name, given);
          else if (value !== null) metaArgs.set(name, value);
        }
        return;
      case 'FROM': {
        if (!nested) sawFrom = true;
        const { rest } = flagsOf(args);
        if (rest[0] === undefined) throw new DockerfileImageError(`line ${line}: FROM names no image`);
        const reference = expandWord(rest[0], metaArgs, escape);
        if (reference === '') throw new DockerfileImageError(`line ${line}: FROM ${rest[0]} names no image once its variables are substituted`);
        if (!isStage(reference) && reference.toLowerCase() !== 'scratch') images.push({ reference, instruction: 'FROM', line });
        if (!nested && rest[1]?.toLowerCase() === 'as' && rest[2]) stages.push(expandWord(rest[2], metaArgs, escape).toLowerCase());
        return;
      }
      case 'COPY':
      case 'ADD':
        for (const [name, value] of flagsOf(args).flags) if (name === 'from') copySource(value, `${keyword} --from`, line, nested);
        return;
      case 'RUN':
        for (const [name, value] of flagsOf(args).flags) {
          const from = name === 'mount' ? mountSource(value) : null;
          if (from !== null) copySource(from, 'RUN --mount from', line, nested);
        }
        return;
      default:
        return;
    }
  };

  for (const { text, line } of logicalLines(source, escape)) visit(text, line, false);
  return images;
}
