import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Agent, RequestInit, Response } from 'undici';

/**
 * Where outgoing requests (deliveries, collection) may go. Public unicast addresses always;
 * private, loopback, link-local (cloud metadata), unique-local and other special ranges only
 * when a CIDR of `allow` contains them (the local demo allows its own loopback services).
 */
export interface NetworkPolicy {
  allow: string[];
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRanges(allow: readonly string[]): Range[] {
  return allow.map((entry) => {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const address = ipaddr.parse(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  });
}

/** Why an address may not be reached, or undefined when it may. */
export function forbiddenReason(address: string, allow: readonly string[] = []): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  for (const [network, bits] of parseRanges(allow))
    if (network.kind() === parsed.kind() && parsed.match(network, bits)) return undefined;
  const range = parsed.range();
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
}

/** The connect-time lookup: resolves, then refuses the connection if any address is forbidden. */
export function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      // Every address checked: a name that resolves to one public and one private address is
      // refused, whichever the socket would have picked.
      for (const entry of addresses) {
        const reason = forbiddenReason(entry.address, policy.allow);
        if (reason)
          return callback(
            new ForbiddenAddressError(
              `${hostname} resolves to ${reason}: refused (not in the network allow-list)`,
            ),
            '',
            0,
          );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Checks a URL before any request: http(s) only, and an IP literal (which connects without a
 * lookup) in an allowed range.
 */
export function assertAllowedUrl(url: string, policy: NetworkPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ForbiddenAddressError(`${url} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ForbiddenAddressError(`${url}: only http and https are allowed`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const reason = forbiddenReason(host, policy.allow);
    if (reason) throw new ForbiddenAddressError(`${url}: ${reason}, refused (not in the network allow-list)`);
  }
  return parsed;
}

/**
 * Whether plain http may carry a request to this URL: only to an IP address the allow-list
 * names (a service on the operator's own network, as the local cloud's receivers on loopback).
 * Anywhere else, a webhook's payload and signature travel over https.
 */
export function plainHttpAllowed(url: URL, policy: NetworkPolicy): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) return false;
  const address = ipaddr.parse(host);
  return parseRanges(policy.allow).some(
    ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
  );
}

/** Addresses that must never be reachable from a deployed function: its own sandbox and the metadata service. */
const sandboxAddresses = ['127.0.0.1', '::1', '169.254.169.254', 'fd00:ec2::254', 'fe80::1'];

/**
 * The allow-list entries that open loopback or link-local addresses (the cloud metadata
 * service among them): fine on the local cloud, whose services listen on loopback, refused in
 * a deployment to AWS.
 */
export function sandboxAllowEntries(allow: readonly string[]): string[] {
  return allow.filter((entry) =>
    parseRanges([entry]).some(
      ([network, bits]) =>
        sandboxAddresses.some((address) => {
          const parsed = ipaddr.parse(address);
          return parsed.kind() === network.kind() && parsed.match(network, bits);
        }) || ['loopback', 'linkLocal'].includes(network.range()),
    ),
  );
}

const agents = new Map<string, Agent>();

/**
 * fetch through an undici dispatcher whose every connection goes through the guarded lookup:
 * the address checked is the address connected to, so DNS rebinding between check and use
 * cannot happen. A refused address, whether in the URL or resolved, throws
 * ForbiddenAddressError. undici is loaded on first use (a function that only ingests never
 * needs it).
 */
export async function guardedFetch(url: string, init: RequestInit, policy: NetworkPolicy): Promise<Response> {
  assertAllowedUrl(url, policy);
  const { Agent, fetch } = await import('undici');
  const key = JSON.stringify(policy.allow);
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({ connect: { lookup: guardedLookup(policy) }, keepAliveTimeout: 4_000 });
    agents.set(key, agent);
  }
  try {
    return await fetch(url, { ...init, dispatcher: agent });
  } catch (error) {
    // A refusal at connect time comes back as undici's "fetch failed": say what it was.
    if ((error as Error).cause instanceof ForbiddenAddressError) throw (error as Error).cause;
    throw error;
  }
}
