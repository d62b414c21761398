import { describe, expect, it } from 'vitest';
import { RowGroups } from '../../src/adapters/rowGroups.js';

type Row = [key: string, n: number];
const rows = (...keys: string[]): Row[] => keys.map((k, i) => [k, i]);
const keys = (groups: Row[][]): string[][] => groups.map((g) => g.map((r) => r[0]));

describe('RowGroups', () => {
  it('holds back the last group until a row of another key or the end shows it is complete', () => {
    const g = new RowGroups<Row>((r) => r[0]);
    g.add(rows('a', 'a', 'b', 'c', 'c'));
    expect(keys(g.take(10, false))).toEqual([['a', 'a'], ['b']]);
    expect(g.held).toBe(2);
    g.add(rows('c', 'd'));
    expect(keys(g.take(10, false))).toEqual([['c', 'c', 'c']]);
    expect(keys(g.take(10, true))).toEqual([['d']]);
    expect(g.held).toBe(0);
  });

  it('hands out at most the number asked for, and the rest later in order', () => {
    const g = new RowGroups<Row>((r) => r[0]);
    g.add(rows('a', 'b', 'b', 'c', 'd'));
    expect(keys(g.take(2, true))).toEqual([['a'], ['b', 'b']]);
    expect(keys(g.take(1, true))).toEqual([['c']]);
    expect(keys(g.take(5, true))).toEqual([['d']]);
    expect(g.take(5, true)).toEqual([]);
  });

  it('keeps a group whole across any split of the rows into chunks', () => {
    const all = rows('a', 'a', 'a', 'b', 'c', 'c', 'd', 'd', 'd', 'd', 'e');
    for (let size = 1; size <= all.length; size++) {
      const g = new RowGroups<Row>((r) => r[0]);
      const out: Row[][] = [];
      for (let i = 0; i < all.length; i += size) {
        g.add(all.slice(i, i + size));
        out.push(...g.take(100, false));
      }
      out.push(...g.take(100, true));
      expect(keys(out), `chunks of ${size}`).toEqual([['a', 'a', 'a'], ['b'], ['c', 'c'], ['d', 'd', 'd', 'd'], ['e']]);
      expect(out.flat()).toEqual(all);
    }
  });

  it('a group of 100,000 rows arriving a thousand at a time comes out whole, once', () => {
    const g = new RowGroups<Row>((r) => r[0]);
    const out: Row[][] = [];
    g.add(rows('a'));
    for (let i = 0; i < 100; i++) {
      g.add(Array.from({ length: 1000 }, (_, j): Row => ['b', i * 1000 + j]));
      out.push(...g.take(10, false));
    }
    g.add(rows('c'));
    out.push(...g.take(10, true));
    expect(out.map((grp) => [grp[0]![0], grp.length])).toEqual([
      ['a', 1],
      ['b', 100_000],
      ['c', 1],
    ]);
    expect(out[1]!.map((r) => r[1])).toEqual(Array.from({ length: 100_000 }, (_, i) => i));
  });
});
