// One run of a described scenario: the load timetable (and soak's /stats
// timetable) against a client, every outcome into a recorder, then the
// thresholds judged on what was recorded. Returns the results object that
// run.mjs prints and writes.
import { arrivalTimetable, plannedArrivals, runTimetable, totalDurationMs } from './arrivals.mjs';
import { describeFailure, parseJson, warmUp } from './http.mjs';
import { createRecorder } from './metrics.mjs';
import { evaluateThresholds } from './summary.mjs';

/**
 * `spec` is what a scenario's describe() returned; `client` carries the load,
 * `statsClient` the /stats polls (its own connection, so a poll does not
 * queue behind thousands of load requests and report the runner's backlog
 * instead of the edge's). `signal` stops the run early (Ctrl-C).
 * `onProgress(elapsedMs, totals)` is called every `progressEveryMs`, so an
 * hours-long soak shows it is alive.
 */
export async function runScenario({ scenario, spec, target, client, statsClient, signal, onProgress, progressEveryMs = 10_000 }) {
  const { connections, warmupMs } = spec.concurrency;
  // Before the clock: opens the connections and warms undici (http.mjs warmUp).
  if (warmupMs > 0) await warmUp(client, { workers: connections, durationMs: warmupMs });

  const recorder = createRecorder(spec.phases);
  const stop = new AbortController();
  const onOuterAbort = () => {
    recorder.abort(String(signal.reason ?? 'stopped'));
    stop.abort();
  };
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (signal?.aborted) onOuterAbort(); // Ctrl-C during the warm-up: no 'abort' event comes any more

  const sendOne = async (arrival) => {
    const request = spec.request(arrival);
    if (spec.countMessages) recorder.messagesSent(request.messages);
    const t0 = performance.now();
    let problem;
    let json;
    try {
      const res = await client.request(request, spec.timeoutMs);
      json = parseJson(res.text);
      problem = spec.check(res.status, json);
    } catch (e) {
      problem = describeFailure(e);
    }
    // Every request's time counts, failed ones too (k6's http_req_duration does
    // the same): a timeout at 10 s belongs in the tail it caused.
    recorder.request(arrival.phase, { ok: !problem, ms: performance.now() - t0, reason: problem });
    if (!problem && spec.countMessages) recorder.messagesAcked(json.count);
  };

  const pollStats = async () => {
    let edge;
    let problem;
    try {
      const res = await statsClient.request({ method: 'GET', path: '/stats' }, 10_000);
      edge = parseJson(res.text)?.edge;
      if (res.status !== 200) problem = `HTTP ${res.status}`;
      else if (typeof edge?.inQueue !== 'number') problem = 'no edge section';
    } catch (e) {
      problem = describeFailure(e);
    }
    recorder.statsPoll(problem ? undefined : edge, problem);
    const abortReason = !problem && spec.stats.abortReason(edge);
    if (abortReason) {
      recorder.abort(abortReason);
      stop.abort();
    }
  };

  const startedAt = new Date();
  recorder.start(startedAt.getTime());
  const runs = [
    runTimetable(arrivalTimetable(spec.stages), {
      send: sendOne,
      maxInflight: spec.concurrency.maxInflight,
      signal: stop.signal,
      onDrop: () => recorder.drop(),
      onLag: (ms) => recorder.lag(ms),
    }),
  ];
  if (spec.stats) {
    // At most two polls outstanding, as k6/soak.js allows two VUs; a third
    // is counted as a dropped poll (the edge is not answering /stats).
    runs.push(runTimetable(arrivalTimetable(spec.stats.stages), {
      send: pollStats, maxInflight: 2, signal: stop.signal, onDrop: () => recorder.statsDropped(),
    }));
  }
  const progress = onProgress && setInterval(() => onProgress(Date.now() - startedAt.getTime(), recorder.totals()), progressEveryMs);
  // Requests that wait for a free connection wait in the runner, and that
  // wait is part of their latency. Sampled, so short bursts can be missed;
  // a large peak says CONNECTIONS (or the target's latency) is the limit.
  const queue = setInterval(() => recorder.queued(client.queued()), 250);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(progress);
    clearInterval(queue);
  }
  const endedAt = new Date();
  // A completed run lasted its timetable even when the last request was
  // answered early (2 batches/s end at 1.5 s of a 2 s run); rates are per
  // that time. An aborted run lasted until it stopped.
  const scheduledEnd = startedAt.getTime() + totalDurationMs(spec.stages);
  recorder.end(recorder.abortReason ? endedAt.getTime() : Math.max(endedAt.getTime(), scheduledEnd));
  signal?.removeEventListener('abort', onOuterAbort);

  const metrics = recorder.snapshot({ withMessages: spec.countMessages, withStats: Boolean(spec.stats) });
  const thresholds = evaluateThresholds(spec.thresholds, metrics);
  const aborted = recorder.abortReason ?? null;
  const planned = plannedArrivals(spec.stages);
  return {
    tool: 'spillway load runner (load/run.mjs)',
    format: 1,
    scenario,
    target: target.display,
    description: spec.description,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    settings: spec.settings,
    concurrency: spec.concurrency,
    plannedArrivals: planned,
    offeredRate: planned / (totalDurationMs(spec.stages) / 1000),
    aborted,
    pass: !aborted && thresholds.every((t) => t.pass),
    thresholds,
    metrics,
  };
}
