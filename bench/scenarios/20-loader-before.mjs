// The Elasticsearch ceiling, before Spillway's delivery rows (and again
// after them, 23-loader-after.mjs): Elasticsearch's rate on a shared machine
// drifts within a run, and the better of the two is the ceiling.
import { LOADER_CONCURRENCY, loaderRow } from '../lib/loader-rows.mjs';

export const title = 'ceiling: direct bulk loader (before)';

export async function run(ctx) {
  for (const c of new Set(Object.values(LOADER_CONCURRENCY))) await loaderRow(ctx, 'before', c);
}
