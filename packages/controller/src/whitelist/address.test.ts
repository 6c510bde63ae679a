import { describe, expect, it } from 'vitest';
import { addressList, isValidAddress } from './address.ts';

describe('isValidAddress', () => {
  it('accepts IPv4 and IPv6 addresses, with or without a prefix length', () => {
    for (const good of ['1.2.3.4', '10.0.0.0/8', '10.1.2.3/24', '0.0.0.0/0', '::1', '2001:db8::/32', 'fe80::1/128', '192.168.0.1/32']) {
      expect(isValidAddress(good), good).toBe(true);
    }
  });

  it('refuses anything else, including what would smuggle text into an nginx allow line', () => {
    for (const bad of ['', 'all', '1.2.3', '1.2.3.256', '10.0.0.0/33', '::1/129', '10.0.0.0/8/8', '10.0.0.0/-1', '10.0.0.0/255.0.0.0', 'fe80::1%eth0', '1.2.3.4; deny all', 'example.com', '10.0.0.0/ 8']) {
      expect(isValidAddress(bad), bad).toBe(false);
    }
  });
});

describe('addressList', () => {
  it('takes an array or its JSON text, trims and drops duplicates', () => {
    expect(addressList(['1.2.3.4', ' 1.2.3.4 ', '::1'], 'addresses')).toEqual(['1.2.3.4', '::1']);
    expect(addressList('["1.2.3.4"]', 'addresses')).toEqual(['1.2.3.4']);
    expect(addressList('5.6.7.8', 'addresses')).toEqual(['5.6.7.8']);
  });

  it('names the first bad address on the given field', () => {
    expect(() => addressList(['1.2.3.4', 'nope'], 'addresses')).toThrow('The address nope is not valid');
    expect(() => addressList(undefined, 'addresses')).toThrow('This field is required.');
    expect(() => addressList({ a: 1 }, 'addresses')).toThrow('Expected a list of items');
  });
});
