// edge → beat → Elasticsearch under load: SIGTERM of the beat (with /in
// batches in flight), then of the edge, restarting each: both exit 0, and
// everything acknowledged is delivered exactly once.
import { edgeBeatRestarts } from '../edge-beat-restarts.mjs';

export const name = 'SIGTERM of beat and edge (edge → beat)';

export const run = (opts) => edgeBeatRestarts({ ...opts, name, stopSignal: 'SIGTERM' });
