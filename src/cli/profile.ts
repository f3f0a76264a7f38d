/**
 * rxtx's -cpuprofile and -memprofile, with Node's inspector: the CPU profile
 * of the main thread (V8's .cpuprofile JSON, which Chrome DevTools and
 * speedscope open; not Go's pprof) is recorded from start to stop, and a heap
 * snapshot of the main thread (.heapsnapshot) is taken at stop. The files are
 * created at start, as rxtx creates them, so a path that cannot be written
 * fails the start. Writer and forwarder threads are not in these profiles.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector';

export interface Profiles {
  /** Stop the CPU profile and take the heap snapshot; writes the files. */
  finish(): Promise<void>;
}

function post<T = unknown>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

function create(file: string, flag: string): number {
  try {
    return openSync(file, 'w');
  } catch (e) {
    throw new Error(`${flag}: cannot create ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

export async function startProfiles(cpuprofile: string, memprofile: string): Promise<Profiles | undefined> {
  if (!cpuprofile && !memprofile) return undefined;
  const cpuFd = cpuprofile ? create(cpuprofile, '--cpuprofile') : undefined;
  const memFd = memprofile ? create(memprofile, '--memprofile') : undefined;
  const session = new Session();
  session.connect();
  if (cpuFd !== undefined) {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  let done: Promise<void> | undefined;
  return {
    finish() {
      done ??= (async () => {
        if (cpuFd !== undefined) {
          const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
          writeSync(cpuFd, JSON.stringify(profile));
          closeSync(cpuFd);
        }
        if (memFd !== undefined) {
          const onChunk = (m: { params: { chunk: string } }) => writeSync(memFd, m.params.chunk);
          session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
          await post(session, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
          session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
          closeSync(memFd);
        }
        session.disconnect();
      })();
      return done;
    },
  };
}
