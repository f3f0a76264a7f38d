// What every POSTing scenario shares (the counterpart of k6/lib/common.js):
// the path settings, the ack check, the request limits and thresholds.
import { posEventJson, rxPath } from './payload.mjs';
import { formatDuration } from './settings.mjs';
import { shareBelow, threshold } from './summary.mjs';

export const JSON_HEADERS = { 'content-type': 'application/json' };
export const NDJSON_HEADERS = { 'content-type': 'application/x-ndjson' };

/**
 * PRODUCER, LABEL, FLEET and (for single-event scenarios) ROUTE. `route`
 * fixes the route instead (batch always posts to rxb).
 */
export function pathSettings(settings, { route } = {}) {
  return {
    route: route ?? settings.choice('ROUTE', 'rx', ['rx', 'rxs', 'rxa'], '(the batch scenario covers rxb)'),
    producer: settings.str('PRODUCER', 'pos'),
    label: settings.str('LABEL', 'sale').replace(/^\/+/, ''),
    fleet: settings.int('FLEET', 1000),
  };
}

/** The route as a pattern, for the summary: POST /rx/pos/till-N/sale. */
export function pathPattern(paths) {
  return `POST /${paths.route}/${paths.producer}/till-N/${paths.label}`;
}

/**
 * Why a Spillway answer is not an ack, or undefined when it is one: status
 * 200 and a JSON body with "status":"OK". A non-200's own message (e.g.
 * "store is full") is kept, cut short, so the summary says why.
 */
export function ackProblem(status, json) {
  if (status !== 200) {
    const message = typeof json?.message === 'string' ? ` ${json.message.slice(0, 60)}` : '';
    return `HTTP ${status}${message}`;
  }
  if (json === undefined) return 'check: body is not JSON';
  if (json?.status !== 'OK') return 'check: body status is not OK';
  return undefined;
}

/** One ~300 B event per arrival, from till (arrival number mod FLEET). */
export function singleEventRequest(paths, runTag) {
  return (arrival) => ({
    method: 'POST',
    path: rxPath(paths, arrival.index),
    body: posEventJson(arrival.index, { fleet: paths.fleet, runTag }),
    headers: JSON_HEADERS,
    messages: 1,
  });
}

/** MAX_ERROR_RATE, MAX_DROPPED and TIMEOUT, with the k6 scripts' defaults. */
export function requestLimits(settings, { timeout = '10s' } = {}) {
  return {
    maxErrorRate: settings.num('MAX_ERROR_RATE', 0.01, { max: 1 }),
    maxDropped: settings.num('MAX_DROPPED', 0.01, { max: 1 }),
    timeoutMs: settings.duration('TIMEOUT', timeout),
  };
}

/**
 * The bounds every steady-rate scenario has: the share of failed requests
 * (an error, a timeout, a non-200 or a failed check: k6's http_req_failed and
 * checks in one), p99 latency, and the share of arrivals dropped because
 * MAX_INFLIGHT requests were outstanding (k6's dropped_iterations).
 */
export function requestThresholds({ p99Ms, maxErrorRate, maxDropped }) {
  return [
    shareBelow('failed requests', 'requests.failedRate', maxErrorRate),
    threshold('latency p99', 'latencyMs.p99', '<', p99Ms, { unit: 'ms' }),
    shareBelow('dropped arrivals', 'requests.droppedShare', maxDropped),
  ];
}

/** The concurrency budget as it appears in the results' settings. */
export function concurrencySettings({ maxInflight, connections, warmupMs }) {
  return { MAX_INFLIGHT: maxInflight, CONNECTIONS: connections, RUNNER_WARMUP: formatDuration(warmupMs) };
}
