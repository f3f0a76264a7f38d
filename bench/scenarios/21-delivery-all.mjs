// Delivery: `spillway all` takes /rxb batches from a feed that outruns it
// and delivers them into Elasticsearch in-process.
import { removeDir, startDaemon } from '../../test/helpers/daemon.mjs';
import { testIndex } from '../../test/helpers/es.mjs';
import { deliveryRow } from '../lib/delivery.mjs';

export const title = 'delivery: spillway all';

export async function run(ctx) {
  const idx = testIndex('bench');
  const dir = ctx.dir('delivery-all');
  try {
    const d = await startDaemon('all', ['--path', dir, '--index', idx.pattern, '--interval', '0.1', '--log-level', 'warn']);
    try {
      await deliveryRow(ctx, 'delivery: spillway all', { edgeUrl: d.url, pids: { spillway: d.child.pid }, mainPid: d.child.pid }, idx, { n: ctx.settings.deliveryN });
    } finally {
      await d.kill();
    }
  } finally {
    removeDir(dir);
    await idx.cleanup();
  }
}
