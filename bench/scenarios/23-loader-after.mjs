// The Elasticsearch ceiling again, after Spillway's delivery rows.
import { LOADER_CONCURRENCY, loaderRow } from '../lib/loader-rows.mjs';

export const title = 'ceiling: direct bulk loader (after)';

export async function run(ctx) {
  for (const c of new Set(Object.values(LOADER_CONCURRENCY))) await loaderRow(ctx, 'after', c);
}
