// The open-model scheduler: arrivals come on a fixed timetable, each one sent
// on its own whether or not earlier requests have been answered.
//
// A closed-model client (N workers, each waiting for its answer before
// sending again) quietly sends less when the target slows down, so the slow
// moments are under-sampled and the latency looks better than what a fleet of
// independent tills would see. Here the timetable is fixed in advance from
// the stages' rates (like k6's arrival-rate executors); when the target
// stalls, requests pile up in flight, and once MAX_INFLIGHT are outstanding
// further arrivals are counted as dropped (k6's dropped_iterations) rather
// than sent late or skipped without a trace.

/**
 * A stage: `durationMs` during which the rate goes linearly from `fromRate`
 * to `toRate` arrivals per second (equal for a constant stage), and a `phase`
 * label the requests of the stage are reported under.
 */
export function stage(durationMs, fromRate, toRate = fromRate, phase = 'main') {
  return { durationMs, fromRate, toRate, phase };
}

// Arrival counts are sums of products of decimal fractions (0.2 × 120000 ms
// × 200/s); rounding them to a micro-arrival keeps 2399.9999999 from losing
// an arrival or 2400.0000001 from gaining one.
const tidy = (x) => Math.round(x * 1e6) / 1e6;

/** Arrivals a stage plans: the area under its rate line. */
function stageArrivals(s) {
  return tidy(((s.fromRate + s.toRate) / 2) * (s.durationMs / 1000));
}

/**
 * Time (ms into the stage) at which `k` arrivals have accumulated, i.e. the
 * inverse of N(t) = r0·t + (r1 − r0)·t² / 2d (t in seconds).
 */
function timeOfArrival(s, k) {
  if (k <= 0) return 0; // the stage's first arrival opens it (and 0/0 below when it ramps from 0)
  const d = s.durationMs / 1000;
  const r0 = s.fromRate;
  const a = (s.toRate - r0) / (2 * d);
  if (Math.abs(a) < 1e-12) return (k / r0) * 1000;
  // Solve a·t² + r0·t − k = 0 for the root inside the stage. Written as
  // 2k / (r0 + √(r0² + 4ak)) it stays accurate when r0 = 0 or a < 0.
  const disc = Math.max(0, r0 * r0 + 4 * a * k);
  return ((2 * k) / (r0 + Math.sqrt(disc))) * 1000;
}

/** Total arrivals planned over all stages (k6's "planned iterations"). */
export function plannedArrivals(stages) {
  return Math.ceil(tidy(stages.reduce((sum, s) => sum + stageArrivals(s), 0)));
}

/** Total length of the stages, ms. */
export function totalDurationMs(stages) {
  return stages.reduce((sum, s) => sum + s.durationMs, 0);
}

/**
 * The timetable: yields { index, atMs, phase } for every arrival, in order.
 * The k-th arrival (from 0) is when the cumulative planned count reaches k,
 * so the first one goes at once and 200/s for 3 s gives exactly 600, at
 * 0, 5, 10, ... 2995 ms. Fractions carry across stages, so a run split into
 * stages plans the same arrivals as the area under the whole rate curve.
 * A generator, not an array: an 8-hour soak plans millions.
 */
export function* arrivalTimetable(stages) {
  let index = 0;
  let before = 0; // arrivals planned by the stages already passed (fractional)
  let startMs = 0;
  for (const s of stages) {
    const inStage = stageArrivals(s);
    const end = tidy(before + inStage);
    for (; index < end; index++) {
      const atMs = startMs + Math.min(s.durationMs, timeOfArrival(s, index - before));
      yield { index, atMs, phase: s.phase };
    }
    before = end;
    startMs += s.durationMs;
  }
}

/**
 * Run a timetable: calls `send(arrival)` for each arrival at its time and
 * resolves once every sent request has finished, with
 * { planned, sent, dropped } (planned: the arrivals reached before the end
 * or an abort).
 *
 * - `send` returns a promise and records its own outcome; a rejection or a
 *   throw is swallowed here, so one bad request cannot end the run.
 * - `maxInflight`: when that many sends are outstanding, an arrival is
 *   counted as dropped and `onDrop(arrival)` is called.
 * - `signal`: an AbortSignal that stops sending (abort on a threshold, or
 *   Ctrl-C); in-flight requests are still awaited.
 * - `onLag(ms)`: how late (ms) each arrival was handled relative to its slot.
 *   A late start is not corrected for: latency is measured from the real
 *   send, as k6 does, and a runner that falls behind shows up here.
 */
export async function runTimetable(timetable, { send, maxInflight, signal, onDrop = () => {}, onLag = () => {} }) {
  const now = () => performance.now();
  const t0 = now();
  const pending = new Set();
  let inflight = 0;
  let sent = 0;
  let dropped = 0;
  let planned = 0;

  const fire = (arrival) => {
    planned++;
    if (inflight >= maxInflight) {
      dropped++;
      onDrop(arrival);
      return;
    }
    inflight++;
    sent++;
    const p = Promise.resolve()
      .then(() => send(arrival))
      .catch(() => {}) // send records its own failures; never let one stop the run
      .finally(() => {
        inflight--;
        pending.delete(p);
      });
    pending.add(p);
  };

  for (let next = timetable.next(); !next.done; ) {
    if (signal?.aborted) break;
    const elapsed = now() - t0;
    // Everything that is due goes now, including arrivals that are late
    // because the event loop was busy: the timetable is not stretched.
    while (!next.done && next.value.atMs <= elapsed) {
      onLag(elapsed - next.value.atMs);
      fire(next.value);
      next = timetable.next();
    }
    if (next.done) break;
    await sleepUntil(next.value.atMs - (now() - t0), signal);
  }
  // Requests are bounded by their own timeout, so this ends.
  while (pending.size > 0) await Promise.all([...pending]);
  return { planned, sent, dropped };
}

/** setTimeout as a promise that an abort cuts short. */
function sleepUntil(ms, signal) {
  return new Promise((resolve) => {
    if (ms <= 0) return setImmediate(resolve); // let answers in between bursts
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
