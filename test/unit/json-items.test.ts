import { describe, expect, it } from 'vitest';
import { JsonItemSplitter } from '../../layers/core/src/platform/formats/json-items';

/** Feeds the text in pieces of `size` characters; returns the parsed items. */
function split(text: string, key: string | undefined, size: number, maxItemChars?: number): unknown[] {
  const splitter = new JsonItemSplitter(key, 'feature', maxItemChars);
  const items: string[] = [];
  for (let at = 0; at < text.length; at += size) items.push(...splitter.push(text.slice(at, at + size)));
  splitter.end();
  return items.map((item) => JSON.parse(item) as unknown);
}

const tricky = {
  type: 'FeatureCollection',
  name: 'with { braces } and [brackets] in "strings"',
  crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:OGC:1.3:CRS84' } },
  bbox: [0, 0, 1, 1],
  metadata: { features: [{ not: 'these' }] },
  features: [
    { type: 'Feature', properties: { note: 'a } b { c ] d [', path: 'C:\\parking\\"x"' }, geometry: null },
    // Escapes where the scan jumps: a string ending in a backslash, a quote escaped in a key.
    { type: 'Feature', properties: { 'say "hi"': 'ends with \\', '\\': '\\\\"}]' }, geometry: null },
    {
      type: 'Feature',
      properties: { emoji: '😀 é €', nested: { list: [1, [2, { three: 3 }]] } },
      geometry: { type: 'Point', coordinates: [1.9, 47.9] },
    },
  ],
  after: { features: 'not an array' },
};

describe('JsonItemSplitter', () => {
  it.each([1, 2, 7, 64, 100_000])(
    'cuts the features of a FeatureCollection into whole items, in pieces of %i characters',
    (size) => {
      expect(split(JSON.stringify(tricky, null, size % 2 === 0 ? 2 : 0), 'features', size)).toEqual(
        tricky.features,
      );
    },
  );

  it('cuts the items of a top-level array', () => {
    const items = [{ a: 1 }, { b: '}]' }, { c: [{}] }];
    expect(split(` \n${JSON.stringify(items)}\n`, undefined, 3)).toEqual(items);
    expect(split('[]', undefined, 1)).toEqual([]);
  });

  it('refuses what is not an array of objects, truncated or followed by more, with a reason', () => {
    expect(() => split('[{"a":1}, 2]', undefined, 4)).toThrow(/feature 2 is not a JSON object/);
    expect(() => split('{"features": ["x"]}', 'features', 4)).toThrow(/feature 1 is not a JSON object/);
    expect(() => split('{"features": [{"a":1}, {"b":', 'features', 4)).toThrow(/truncated/);
    expect(() => split('{"features": [{"a":"open string}]}', 'features', 4)).toThrow(/truncated/);
    expect(() => split('{"features": []} {"features": []}', 'features', 4)).toThrow(/more after the end/);
    expect(() => split('{"type": "FeatureCollection"}', 'features', 4)).toThrow(/no "features" array/);
    expect(() => split('', 'features', 4)).toThrow(/no JSON document/);
    expect(() => split(`{"features": [{"a": "${'x'.repeat(50)}"}]}`, 'features', 4, 20)).toThrow(
      /feature 1 is longer than 20 characters/,
    );
  });

  it('joins an item spanning many pieces once, however large', () => {
    const coordinates = Array.from({ length: 200_000 }, (_, index) => [index / 1000, 45]);
    const big = { features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates } }] };
    const [item] = split(JSON.stringify(big), 'features', 16 * 1024);
    expect((item as (typeof big.features)[number]).geometry.coordinates).toHaveLength(200_000);
  });
});
