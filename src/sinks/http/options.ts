/**
 * The edge's output: POST MessageBatch to --ingest (a Spillway beat's or a
 * Go rtbeat's /in). Its flags (--ingest, --tx-timeout) are in
 * config/options.ts; edge mode always uses this output and no other.
 */
import type { Config } from '../../config/options.js';
import { ingestUrls } from '../../security/link.js';
import { checkUrl } from '../elasticsearch/options.js';
import type { OutputOptions, SettingName } from '../output.js';

export const httpOptions: OutputOptions = {
  name: 'http',
  summary: 'edge mode only: POST each batch to the stage at --ingest',
  delivery: 'at least once; a 200 from the stage means every message reached its outputs (the stage deduplicates by uuid)',
  options: [],
  check(c: Config, name: SettingName) {
    const urls = ingestUrls(c.ingest);
    if (urls.length === 0) throw new Error(`${name('ingest', '--ingest')}: no URL given`);
    for (const u of urls) checkUrl(u, name('ingest', '--ingest'));
    if (new Set(urls).size !== urls.length) throw new Error(`${name('ingest', '--ingest')}: a stage URL is listed twice`);
  },
};
