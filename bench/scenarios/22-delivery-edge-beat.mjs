// Delivery: `spillway edge` takes /rxb batches from a feed that outruns it
// and forwards them to `spillway beat`, which writes Elasticsearch.
import { removeDir, startDaemon } from '../../test/helpers/daemon.mjs';
import { testIndex } from '../../test/helpers/es.mjs';
import { deliveryRow } from '../lib/delivery.mjs';

export const title = 'delivery: spillway edge → beat';

export async function run(ctx) {
  const idx = testIndex('bench');
  const dir = ctx.dir('delivery-edge-beat');
  const started = [];
  try {
    const beat = await startDaemon('beat', ['--index', idx.pattern, '--log-level', 'warn']);
    started.push(beat);
    const e = await startDaemon('edge', ['--path', dir, '--ingest', `${beat.url}/in`, '--interval', '0.1', '--log-level', 'warn']);
    started.push(e);
    await deliveryRow(ctx, 'delivery: spillway edge → beat', { edgeUrl: e.url, pids: { edge: e.child.pid, beat: beat.child.pid }, mainPid: e.child.pid }, idx, { n: ctx.settings.deliveryN });
  } finally {
    for (const d of started.reverse()) await d.kill();
    removeDir(dir);
    await idx.cleanup();
  }
}
