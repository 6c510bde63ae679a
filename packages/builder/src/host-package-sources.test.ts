import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePipConfig, pipBuildSources, pipConfigFiles } from './host-package-sources.ts';

const scratch = mkdtempSync(join(tmpdir(), 'deis-pip-sources-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the host pip sources builds get', () => {
  it('reads the index settings of [global] and [install], lists on one line or continued', () => {
    const parsed = parsePipConfig(
      ['# the site mirror', '[global]', 'index_url = https://mirror.example.test/simple', 'extra-index-url = file:///srv/a/simple', '    file:///srv/b/simple', 'timeout = 60', '[install]', 'find-links = /srv/wheels', '[freeze]', 'find-links = /ignored'].join('\n'),
    );
    expect(parsed).toEqual({ indexUrl: 'https://mirror.example.test/simple', extraIndexUrls: ['file:///srv/a/simple', 'file:///srv/b/simple'], findLinks: ['/srv/wheels'] });
    expect(parsePipConfig('[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n')).toEqual({});
  });

  it('passes the settings as PIP_* variables and mounts the local mirrors that exist, a simple index by its parent', () => {
    const mirror = join(scratch, 'pypi');
    mkdirSync(join(mirror, 'simple'), { recursive: true });
    mkdirSync(join(scratch, 'wheels'));
    const later = join(scratch, 'pip.conf');
    const earlier = join(scratch, 'xdg.conf');
    writeFileSync(earlier, '[global]\nextra-index-url = https://overridden.example.test/simple\nindex-url = https://pypi.example.test/simple\n');
    writeFileSync(later, `[global]\nextra-index-url = file://${mirror}/simple file:///nonexistent/simple\nfind-links = ${join(scratch, 'wheels')}\n`);
    expect(pipBuildSources([earlier, later, join(scratch, 'missing.conf')], {})).toEqual({
      env: [`PIP_INDEX_URL=https://pypi.example.test/simple`, `PIP_EXTRA_INDEX_URL=file://${mirror}/simple file:///nonexistent/simple`, `PIP_FIND_LINKS=${join(scratch, 'wheels')}`],
      directories: [mirror, join(scratch, 'wheels')],
    });
    expect(pipBuildSources([join(scratch, 'missing.conf')], {})).toEqual({ env: [], directories: [] });
    // PIP_* variables of the platform's environment win over the files, as they do for pip.
    expect(pipBuildSources([later], { PIP_FIND_LINKS: mirror, PIP_INDEX_URL: '' }).env).toEqual([
      `PIP_EXTRA_INDEX_URL=file://${mirror}/simple file:///nonexistent/simple`,
      `PIP_FIND_LINKS=${mirror}`,
    ]);
  });

  it('reads the user files after the system ones', () => {
    expect(pipConfigFiles('/home/u')).toEqual(['/etc/xdg/pip/pip.conf', '/etc/pip.conf', '/home/u/.pip/pip.conf', '/home/u/.config/pip/pip.conf']);
    expect(pipConfigFiles(undefined)).toEqual(['/etc/xdg/pip/pip.conf', '/etc/pip.conf']);
  });
});
