import { describe, expect, it } from 'vitest';
import {
  assertAllowedUrl,
  forbiddenReason,
  plainHttpAllowed,
  sandboxAllowEntries,
} from '../../layers/core/src/platform/net/guard';

describe('outgoing addresses', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenReason(address)).toMatch(new RegExp(` is a ${range} address$`));
  });

  it('lets public addresses through, and private ones only inside an allowed range', () => {
    expect(forbiddenReason('8.8.8.8')).toBeUndefined();
    expect(forbiddenReason('2001:4860:4860::8888')).toBeUndefined();
    expect(forbiddenReason('127.0.0.1', ['127.0.0.1/32'])).toBeUndefined();
    expect(forbiddenReason('127.0.0.2', ['127.0.0.1/32'])).toBe('127.0.0.2 is a loopback address');
    expect(forbiddenReason('10.20.0.5', ['10.20.0.0/16'])).toBeUndefined();
    expect(forbiddenReason('::ffff:127.0.0.1', ['127.0.0.1'])).toBeUndefined();
  });

  it('checks the URL itself: scheme, and IP literals (which connect without a lookup)', () => {
    expect(() => assertAllowedUrl('file:///etc/passwd', { allow: [] })).toThrow(/only http and https/);
    expect(() => assertAllowedUrl('http://[::1]:8080/', { allow: [] })).toThrow(/::1 is a loopback address/);
    expect(() => assertAllowedUrl('http://2130706433/', { allow: [] })).toThrow(/127\.0\.0\.1 is a loopback/);
    expect(assertAllowedUrl('https://example.org/hook', { allow: [] }).hostname).toBe('example.org');
  });
});

describe('what may be allowed outside the local cloud', () => {
  it('finds the entries that open loopback or link-local addresses, however wide', () => {
    expect(
      sandboxAllowEntries([
        '127.0.0.1/32',
        '10.0.0.0/8',
        '169.254.0.0/16',
        '0.0.0.0/0',
        '::1',
        'fe80::/10',
        '192.168.1.20',
        '2001:db8::/32',
      ]),
    ).toEqual(['127.0.0.1/32', '169.254.0.0/16', '0.0.0.0/0', '::1', 'fe80::/10']);
  });

  it('lets plain http go only to an IP address the allow-list names', () => {
    const policy = { allow: ['10.1.0.0/16'] };
    expect(plainHttpAllowed(new URL('http://10.1.2.3:8080/hook'), policy)).toBe(true);
    expect(plainHttpAllowed(new URL('http://10.2.0.1/hook'), policy)).toBe(false);
    expect(plainHttpAllowed(new URL('http://hooks.example.org/in'), policy)).toBe(false);
    expect(plainHttpAllowed(new URL('http://203.0.113.9/in'), policy)).toBe(false);
  });
});
