// edge → beat → Elasticsearch under load: kill -9 of the beat, then of the
// edge, restarting each on the same port (and the edge on the same --path):
// every acked uuid exactly once.
import { edgeBeatRestarts } from '../edge-beat-restarts.mjs';

export const name = 'kill -9 of beat and edge (edge → beat)';

export const run = (opts) => edgeBeatRestarts({ ...opts, name, stopSignal: 'SIGKILL' });
