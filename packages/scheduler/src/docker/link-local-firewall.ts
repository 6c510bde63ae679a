/**
 * The firewall rule that keeps the platform's containers off link-local addresses (169.254.0.0/16): on a cloud
 * machine that is where the instance metadata service hands out the machine's own credentials. The rule sits in the
 * engine's DOCKER-USER chain, which the engine keeps for its operator's rules and consults before its own, and it
 * matches by the network's subnet, so app, one-off and build containers on that network are all covered. It is
 * installed each time the platform starts (a reboot empties the chain) and never sends a packet itself. Rules of
 * networks that are gone (a platform removed, a test's) are pruned then, so the chain does not grow without bound.
 * @module
 */
import { execFile } from 'node:child_process';

export const LINK_LOCAL = '169.254.0.0/16';
const CHAIN = 'DOCKER-USER';

/** Runs iptables with these arguments; resolves with its exit code and output. */
export type Iptables = (args: string[]) => Promise<{ code: number; output: string }>;

export const systemIptables: Iptables = (args) =>
  new Promise((resolve, reject) => {
    // -w: wait for the xtables lock the engine itself takes while it edits its chains.
    execFile('iptables', ['-w', ...args], (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`iptables could not be run (${error.message}); it is needed to block link-local addresses (DEIS_BLOCK_LINK_LOCAL)`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, output: `${stdout}${stderr}`.trim() });
    });
  });

/** The rule, as `iptables -S` prints it after the chain name: the comment names the network for whoever reads it. */
export function linkLocalRule(networkName: string, subnet: string): string[] {
  return ['-s', subnet, '-d', LINK_LOCAL, '-m', 'comment', '--comment', `deis ${networkName}: no link-local`, '-j', 'DROP'];
}

/** Installs the rule at the head of DOCKER-USER unless it is there; fails, saying why, when it cannot. */
export async function ensureLinkLocalBlock(networkName: string, subnet: string, iptables: Iptables = systemIptables): Promise<void> {
  const rule = linkLocalRule(networkName, subnet);
  if ((await iptables(['-C', CHAIN, ...rule])).code === 0) return;
  const inserted = await iptables(['-I', CHAIN, '1', ...rule]);
  if (inserted.code !== 0) {
    throw new Error(`could not add the rule blocking link-local addresses to the ${CHAIN} chain: ${inserted.output || `iptables exited with ${inserted.code}`}`);
  }
}

/** Removes every copy of the rule; none is no error. */
export async function removeLinkLocalBlock(networkName: string, subnet: string, iptables: Iptables = systemIptables): Promise<void> {
  const rule = linkLocalRule(networkName, subnet);
  for (let copies = 0; copies < 100 && (await iptables(['-C', CHAIN, ...rule])).code === 0; copies++) await iptables(['-D', CHAIN, ...rule]);
}

/** The network name and subnet of each of the platforms' rules in `iptables -S DOCKER-USER` output. */
export function parseLinkLocalRules(listing: string): Array<{ networkName: string; subnet: string }> {
  const rules: Array<{ networkName: string; subnet: string }> = [];
  for (const line of listing.split('\n')) {
    const match = /^-A DOCKER-USER -s (\S+) -d 169\.254\.0\.0\/16 -m comment --comment "deis (\S+): no link-local" -j DROP$/.exec(line.trim());
    if (match) rules.push({ subnet: match[1]!, networkName: match[2]! });
  }
  return rules;
}

/** Removes the rules of networks not in `existing`; the rules of networks that still exist stay. */
export async function pruneLinkLocalBlocks(existing: ReadonlySet<string>, iptables: Iptables = systemIptables): Promise<void> {
  const listing = await iptables(['-S', CHAIN]);
  if (listing.code !== 0) return;
  for (const rule of parseLinkLocalRules(listing.output)) {
    if (!existing.has(rule.networkName)) await removeLinkLocalBlock(rule.networkName, rule.subnet, iptables);
  }
}
