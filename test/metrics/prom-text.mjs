// A strict reader of the Prometheus text exposition format 0.0.4 (what
// prom-client writes and Prometheus scrapes), for tests: it throws on any
// line Prometheus would refuse or that breaks the format's rules (a sample
// before its family's TYPE, a name outside its family, an unquoted or badly
// escaped label value, a value that is not a float, a series twice), and
// returns the families with their samples. promtool check metrics is the
// reference parser; this one runs where promtool is not installed.
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:Inf|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;
const SUFFIXES = { counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

function parseFloatStrict(s, line) {
  if (!FLOAT.test(s)) throw new Error(`not a float: ${JSON.stringify(s)} in ${JSON.stringify(line)}`);
  return s.endsWith('Inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
}

/** { name, labels, value } of one sample line. */
function parseSample(line) {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i])) i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
  const labels = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') break;
      let j = i;
      while (j < line.length && /[a-zA-Z0-9_]/.test(line[j])) j++;
      const label = line.slice(i, j);
      if (!LABEL.test(label) || line[j] !== '=' || line[j + 1] !== '"') throw new Error(`bad label in ${JSON.stringify(line)}`);
      i = j + 2;
      let v = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i + 1];
          if (e === 'n') v += '\n';
          else if (e === '\\' || e === '"') v += e;
          else throw new Error(`bad escape \\${e} in ${JSON.stringify(line)}`);
          i += 2;
        } else {
          v += c;
          i++;
        }
      }
      if (label in labels) throw new Error(`label ${label} twice in ${JSON.stringify(line)}`);
      labels[label] = v;
      i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`expected , or } in ${JSON.stringify(line)}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`expected a space before the value in ${JSON.stringify(line)}`);
  const rest = line.slice(i + 1).split(' ');
  if (rest.length > 2 || (rest.length === 2 && !/^-?\d+$/.test(rest[1]))) throw new Error(`bad value/timestamp in ${JSON.stringify(line)}`);
  return { name, labels, value: parseFloatStrict(rest[0], line) };
}

/** Map family name → { name, help, type, samples: [{ name, labels, value }] }. */
export function parseExposition(text) {
  const families = new Map();
  const seen = new Set();
  let current;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad family name ${name}`);
      let f = families.get(name);
      if (!f) {
        f = { name, help: undefined, type: undefined, samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) throw new Error(`${kind} of ${name} after its samples`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`two HELP lines for ${name}`);
        f.help = rest;
      } else {
        if (f.type !== undefined) throw new Error(`two TYPE lines for ${name}`);
        if (!(rest in SUFFIXES)) throw new Error(`unknown type ${rest} of ${name}`);
        f.type = rest;
      }
      current = f;
      continue;
    }
    const s = parseSample(line);
    if (!current?.type) throw new Error(`sample before any TYPE: ${line}`);
    const suffix = SUFFIXES[current.type].find((x) => s.name === current.name + x);
    if (suffix === undefined) throw new Error(`${s.name} is not a sample of ${current.type} ${current.name}`);
    if (current.type === 'histogram' && suffix === '_bucket' && !('le' in s.labels)) throw new Error(`bucket without le: ${line}`);
    if (current.type === 'summary' && suffix === '' && !('quantile' in s.labels)) throw new Error(`summary sample without quantile: ${line}`);
    const key = s.name + JSON.stringify(Object.entries(s.labels).sort());
    if (seen.has(key)) throw new Error(`series twice: ${line}`);
    seen.add(key);
    current.samples.push(s);
  }
  return families;
}

/** The series of family `f`: for a histogram or summary, grouped by their labels other than le/quantile. */
export function series(f) {
  const out = new Map();
  for (const s of f.samples) {
    const { le, quantile, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let e = out.get(key);
    if (!e) {
      e = { labels: rest, value: undefined, sum: undefined, count: undefined, buckets: [] };
      out.set(key, e);
    }
    if (s.name.endsWith('_bucket') && f.type === 'histogram') e.buckets.push([le === '+Inf' ? Infinity : parseFloatStrict(le, le), s.value]);
    else if (s.name === f.name + '_sum' && f.type !== 'counter' && f.type !== 'gauge') e.sum = s.value;
    else if (s.name === f.name + '_count' && f.type !== 'counter' && f.type !== 'gauge') e.count = s.value;
    else e.value = s.value;
  }
  return [...out.values()];
}
