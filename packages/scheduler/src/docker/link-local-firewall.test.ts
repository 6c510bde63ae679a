import { describe, expect, it } from 'vitest';
import { ensureLinkLocalBlock, linkLocalRule, parseLinkLocalRules, pruneLinkLocalBlocks, removeLinkLocalBlock } from './link-local-firewall.ts';
import type { Iptables } from './link-local-firewall.ts';

/** iptables over one chain held in memory: -C, -I, -D of whole rules. */
function standInIptables(failInsert = false): { iptables: Iptables; chain: string[][] } {
  const chain: string[][] = [];
  const index = (rule: string[]) => chain.findIndex((r) => r.join('\0') === rule.join('\0'));
  const iptables: Iptables = async (args) => {
    const [op, name, ...rest] = args;
    expect(name).toBe('DOCKER-USER');
    if (op === '-S') return { code: 0, output: ['-N DOCKER-USER', ...chain.map((r) => `-A DOCKER-USER ${r.map((w) => (w.includes(' ') ? `"${w}"` : w)).join(' ')}`), '-A DOCKER-USER -j RETURN'].join('\n') };
    if (op === '-C') return { code: index(rest) >= 0 ? 0 : 1, output: '' };
    if (op === '-I') {
      if (failInsert) return { code: 1, output: "iptables: No chain/target/match by that name." };
      expect(rest[0]).toBe('1');
      chain.unshift(rest.slice(1));
      return { code: 0, output: '' };
    }
    if (op === '-D') {
      chain.splice(index(rest), 1);
      return { code: 0, output: '' };
    }
    throw new Error(`unexpected ${args.join(' ')}`);
  };
  return { iptables, chain };
}

describe('the link-local firewall rule', () => {
  it('drops traffic from the network subnet to 169.254.0.0/16', () => {
    const rule = linkLocalRule('deis', '100.64.0.0/16');
    expect(rule.slice(0, 4)).toEqual(['-s', '100.64.0.0/16', '-d', '169.254.0.0/16']);
    expect(rule.slice(-2)).toEqual(['-j', 'DROP']);
  });

  it('is installed first in the chain once, however often the platform starts, and removed whole', async () => {
    const { iptables, chain } = standInIptables();
    await ensureLinkLocalBlock('deis', '100.64.0.0/16', iptables);
    await ensureLinkLocalBlock('deis', '100.64.0.0/16', iptables);
    expect(chain).toEqual([linkLocalRule('deis', '100.64.0.0/16')]);
    await removeLinkLocalBlock('deis', '100.64.0.0/16', iptables);
    expect(chain).toEqual([]);
  });

  it('fails, saying why, when the rule cannot be added', async () => {
    const { iptables } = standInIptables(true);
    await expect(ensureLinkLocalBlock('deis', '100.64.0.0/16', iptables)).rejects.toThrow(/DOCKER-USER chain: iptables: No chain/);
  });

  it('prunes the rules of networks that are gone, and only those', async () => {
    const { iptables, chain } = standInIptables();
    await ensureLinkLocalBlock('deis', '100.64.0.0/16', iptables);
    await ensureLinkLocalBlock('e2e-1', '100.100.1.0/24', iptables);
    chain.push(['-s', '100.64.0.0/16', '-j', 'ACCEPT']);
    expect(parseLinkLocalRules((await iptables(['-S', 'DOCKER-USER'])).output)).toEqual([
      { networkName: 'e2e-1', subnet: '100.100.1.0/24' },
      { networkName: 'deis', subnet: '100.64.0.0/16' },
    ]);
    await pruneLinkLocalBlocks(new Set(['deis', 'bridge']), iptables);
    expect(chain).toEqual([linkLocalRule('deis', '100.64.0.0/16'), ['-s', '100.64.0.0/16', '-j', 'ACCEPT']]);
  });
});
