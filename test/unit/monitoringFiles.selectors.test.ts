// The metric-name extraction that keeps the shipped rules and dashboard in step with the code.
import { describe, expect, it } from 'vitest';
import { selectors } from '../helpers/monitoringFiles.js';

describe('selectors', () => {
  it('finds metric names and their matcher labels, not functions, groupings, ranges or strings', () => {
    const expr = `time() - max by (node) (max_over_time(mft_a_seconds{job="x", node=~"n.*"}[7d]))
      or on (node) histogram_quantile(0.9, sum by (node, le) (rate(mft_b_bucket{job="mft-retention"}[5m])))
      > on (node) group_left max by (node) (mft:c:rate5m) * 1e3 offset 5m unless label_replace(up, "dst", "$1 mft_not_a_metric", "src", "(.*)")`;
    expect(selectors(expr)).toEqual([
      { metric: 'mft_a_seconds', labels: ['job', 'node'] },
      { metric: 'mft_b_bucket', labels: ['job'] },
      { metric: 'mft:c:rate5m', labels: [] },
      { metric: 'up', labels: [] },
    ]);
  });
});
