import { describe, expect, it } from 'vitest';
import { DockerfileImageError, dockerfileImages, expandWord } from './dockerfile-images.ts';

const refs = (source: string, args: Record<string, string> = {}): string[] => dockerfileImages(source, args).map((i) => `${i.instruction} ${i.reference} @${i.line}`);

describe('the images a Dockerfile reads from', () => {
  it('finds FROM, COPY --from and RUN --mount from=, not stages, indexes or scratch', () => {
    const source = [
      'FROM alpine:3.19 AS build',
      'COPY --from=other:git-1234abcd /app /app',
      'from --platform=linux/amd64 build as final',
      'copy --chown=1:1 --from=build /x /y',
      'COPY --from=0 /x /y',
      'RUN --mount=type=bind,from=victim:git-00aa11bb,target=/v cat /v/secret',
      'FROM scratch',
    ].join('\n');
    expect(refs(source)).toEqual(['FROM alpine:3.19 @1', 'COPY --from other:git-1234abcd @2', 'RUN --mount from victim:git-00aa11bb @6']);
  });

  it('substitutes ARGs declared before the first FROM, overridden by the build args, in every form the engine reads', () => {
    const source = ['ARG APP=victim', 'ARG TAG', 'ARG FULL="${APP}:${TAG:-git-00000000}"', 'FROM $FULL', 'FROM ${APP}:${TAG}', "FROM 'lit$eral'"].join('\n');
    expect(refs(source)).toEqual(['FROM victim:git-00000000 @4', 'FROM victim: @5', 'FROM lit$eral @6']);
    expect(refs(source, { TAG: 'git-deadbeef' }).slice(0, 2)).toEqual(['FROM victim:git-deadbeef @4', 'FROM victim:git-deadbeef @5']);
    expect(expandWord('${A:+x}${B-y}${A-z}', new Map([['A', 'a']]))).toBe('xya');
  });

  it('joins continued lines, skipping comments inside them, and honours the escape directive', () => {
    expect(refs('FROM \\\n# a comment\n\n  victim:git-0badc0de\nRUN true')).toEqual(['FROM victim:git-0badc0de @1']);
    expect(refs('# escape=`\nFROM alpine\nCOPY `\n  --from=victim:git-12345678 / /')).toEqual(['FROM alpine @2', 'COPY --from victim:git-12345678 @3']);
  });

  it('checks ONBUILD triggers, whose stage names are unknown', () => {
    expect(refs('FROM alpine AS build\nONBUILD COPY --from=build / /\nonbuild copy --from=1 / /')).toEqual(['FROM alpine @1', 'COPY --from build @2']);
  });

  it('refuses what it cannot read with certainty', () => {
    expect(() => dockerfileImages('FROM alpine\nCOPY --from=$X / /')).toThrow(DockerfileImageError);
    expect(() => dockerfileImages('ARG X=a\nFROM ${X/a/b}')).toThrow(/only \$NAME/);
    expect(() => dockerfileImages('FROM ${X')).toThrow(/unclosed/);
    expect(() => dockerfileImages('FROM $')).toThrow(DockerfileImageError);
    expect(() => dockerfileImages('FROM ${EMPTY}')).toThrow(/names no image/);
  });
});
