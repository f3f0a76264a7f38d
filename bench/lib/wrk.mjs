// Drive wrk (installed from Debian's packages when missing) with a POST body
// and parse its report: requests/s, latency percentiles, non-2xx and errors.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    if (e.code !== 'ENOENT' && e.status !== 1) throw e;
    if (e.code === 'ENOENT') {
      execFileSync('bash', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'inherit' });
    }
  }
}

const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

export function parseWrk(text) {
  const pct = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$/gm)) pct[m[1]] = toMs(m[2], m[3]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const tail = /spillway-tail-us p999=(\d+) max=(\d+)/.exec(text);
  const maxMs = tail ? Number(tail[2]) / 1000 : (() => {
    const m = /Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/.exec(text);
    return m ? toMs(m[1], m[2]) : undefined;
  })();
  return {
    rps, requests, non2xx,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    latencyMs: { p50: pct['50'], p90: pct['90'], p99: pct['99'], p999: tail ? Number(tail[1]) / 1000 : undefined, max: maxMs },
  };
}

/**
 * POST `body` to `url` with wrk. wrk 4 has no rate option: the load is
 * closed-loop with `connections` connections, and `delayMs` makes each
 * connection pause that long between its requests (wrk's delay() hook),
 * which paces the total rate below the maximum.
 */
export function runWrk({ url, body, seconds, connections, threads = 2, dir, headers = {}, fleet = 0, delayMs = 0, acksFile }) {
  const script = join(dir, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  const hdrs = Object.entries({ 'Content-Type': 'application/json', ...headers })
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n');
  // fleet > 0: each request comes from one of `fleet` devices, replacing {n} in the path.
  const path = new URL(url).pathname;
  const perDevice = fleet > 0
    ? `request = function()\n  local p = (${luaString(path)}):gsub("{n}", tostring(math.random(1, ${fleet})))\n  return wrk.format(nil, p)\nend\n`
    : '';
  const pacing = delayMs > 0 ? `delay = function()\n  return ${Math.round(delayMs)}\nend\n` : '';
  const acks = acksFile ? ackRecorder(acksFile) : { hooks: '', done: '' };
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${luaString(body)}\n${hdrs}\n${perDevice}${pacing}${acks.hooks}${tailReport(acks.done)}`);
  return new Promise((resolve, reject) => {
    const target = fleet > 0 ? url.replace(/\{n\}/g, '1') : url;
    const child = spawn('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, target]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ ...parseWrk(out), raw: out }) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

// wrk's --latency table stops at p99; its done() hook can read the whole
// histogram, so print p99.9 and the exact max (microseconds) on one line.
const tailReport = (before) => `done = function(summary, latency, requests)
${before}  io.write(string.format("spillway-tail-us p999=%d max=%d\\n", latency:percentile(99.9), latency.max))
end
`;

/**
 * The exactly-once ledger of a wrk run: each thread keeps the body of every
 * 2xx answer (Spillway's carries the message's uuid), and done() writes them
 * to `file`, one per line ("{}" for an empty body, such as Fluent Bit's 201),
 * after the run, so the clock never waits for the file. A request still in
 * flight when wrk stops is never read: the server may have stored it, so a
 * delivery check allows up to `connections` unacknowledged extras.
 */
function ackRecorder(file) {
  return {
    hooks: `local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
acks = {}
nacks = 0
response = function(status, headers, body)
  if status >= 200 and status < 300 then
    nacks = nacks + 1
    if body == nil or body == "" then body = "{}" end
    acks[nacks] = body
  end
end
`,
    done: `  local f = assert(io.open(${luaString(file)}, "w"))
  for _, t in ipairs(threads) do
    local a = t:get("acks")
    for i = 1, t:get("nacks") do f:write(a[i], "\\n") end
  end
  f:close()
`,
  };
}

function luaString(s) {
  // Long bracket string; choose a level that does not occur in the body.
  let level = '';
  while (s.includes(`]${level}]`)) level += '=';
  return `[${level}[${s}]${level}]`;
}
