import { describe, expect, it } from 'vitest';
import { isInsideCgnat } from './platform-network.ts';

describe('isInsideCgnat', () => {
  it('accepts subnets inside 100.64.0.0/10 only', () => {
    for (const cidr of ['100.64.0.0/16', '100.64.0.0/10', '100.127.255.0/24', '100.96.3.0/24']) expect(isInsideCgnat(cidr), cidr).toBe(true);
    for (const cidr of ['100.128.0.0/16', '100.63.0.0/16', '172.17.0.0/16', '10.0.0.0/8', '192.168.1.0/24', '100.64.0.0/9', '100.64.0.0', 'x/16', '100.64.0.0/31']) {
      expect(isInsideCgnat(cidr), cidr).toBe(false);
    }
  });
});
