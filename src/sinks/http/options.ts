/**
 * The edge's output: POST MessageBatch to --ingest (a Spillway beat's or a
 * Go rtbeat's /in). Its flags (--ingest, --tx-timeout) are in
 * config/options.ts; edge mode always uses this output and no other.
 */
import type { Config } from '../../config/options.js';
import { checkUrl } from '../elasticsearch/options.js';
import type { OutputOptions, SettingName } from '../output.js';

export const httpOptions: OutputOptions = {
  name: 'http',
  summary: 'edge mode only: POST each batch to the stage at --ingest',
  delivery: 'at least once; a 200 from the stage means every message reached its outputs (the stage deduplicates by uuid)',
  options: [],
  check(c: Config, name: SettingName) {
    checkUrl(c.ingest, name('ingest', '--ingest'));
  },
};
