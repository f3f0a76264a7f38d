/**
 * `spillway --version`, `spillway help [MODE]` and `spillway MODE --help`:
 * the full help (src/config/parse.ts helpText, sizes in binary units), or
 * one mode's flags only. Which flags a mode reads is decided here, by flag
 * name; a flag not listed (a new one) shows in every mode, so nothing is
 * ever hidden by omission.
 */
import { helpText, MODES, type Mode } from '../config/parse.js';
import { OPTIONS, type OptionSpec, type Role } from '../config/options.js';
import { OUTPUT_FLAGS, OUTPUT_OPTIONS } from '../sinks/options.js';
import { RXTX_DEFAULTS } from '../config/rxtx.js';
import { buildInfo } from '../metrics/build-info.js';

type Side = 'edge' | 'stage' | 'edgeOnly' | 'beatOnly';

/** Flags read only by the store side (edge, all, rxtx) or the stage side (beat, all); the rest: every mode. */
const SIDE: Record<string, Side> = {
  path: 'edge', shards: 'edge', writers: 'edge', forwarders: 'edge', inflight: 'edge', batch: 'edge',
  'batch-bytes': 'edge', interval: 'edge', maxq: 'edge', 'max-bytes': 'edge', 'max-body': 'edge',
  'max-depth': 'edge', overflow: 'edge', 'auth-tokens': 'edge', 'cors-origins': 'edge', 'rate-limit': 'edge',
  'rate-burst': 'edge',
  ingest: 'edgeOnly', 'tx-timeout': 'edgeOnly', 'ingest-token': 'edgeOnly', 'ingest-token-file': 'edgeOnly',
  'ingest-ca': 'edgeOnly', 'ingest-cert': 'edgeOnly', 'ingest-key': 'edgeOnly', 'ingest-gzip': 'edgeOnly',
  template: 'stage', 'bulk-bytes': 'stage', 'bulk-concurrency': 'stage',
  'ack-timeout': 'beatOnly', 'max-inflight-bytes': 'beatOnly', 'in-auth-tokens': 'beatOnly',
};
const OUTPUT_FLAG_NAMES = new Set(OUTPUT_FLAGS.map((o) => o.flag));

const DESCRIPTION: Record<Mode, string> = {
  all: 'edge and stage in one process: store locally, deliver to the outputs (default mode)',
  edge: 'accept POST /rx/PRODUCER/KEY/LABEL..., store, forward batches to --ingest',
  beat: 'accept batches on POST /in and deliver them to the outputs',
  rxtx: "an edge with rxtx's defaults (-interval 60 -batch 100 -maxq 100000 -path ./)",
};

function roleOf(mode: Mode): Role {
  return mode === 'rxtx' ? 'edge' : mode;
}

/** Whether `mode` reads `spec`. */
export function flagInMode(spec: OptionSpec, mode: Mode): boolean {
  const role = roleOf(mode);
  const side: Side | undefined = OUTPUT_FLAG_NAMES.has(spec.flag) ? 'stage' : SIDE[spec.flag];
  switch (side) {
    case undefined: return true;
    case 'edge': return role !== 'beat';
    case 'edgeOnly': return role === 'edge';
    case 'stage': return role !== 'edge';
    case 'beatOnly': return role === 'beat';
  }
}

/** 67108864 → "64 MiB"; a size that is not a whole number of a unit stays in bytes. parseBytes reads both back. */
export function humanBytes(n: number): string {
  if (n === 0) return '0';
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} B`;
}

function defaultOf(spec: OptionSpec, role: Role): string {
  const def = typeof spec.def === 'function' ? (spec.def as (r: Role) => unknown)(role) : spec.def;
  if (spec.kind === 'bytes' && typeof def === 'number') return humanBytes(def);
  return JSON.stringify(def);
}

function flagLine(spec: OptionSpec, role: Role): string {
  return `  --${spec.flag.padEnd(20)} ${spec.help} [${spec.env}] (default: ${defaultOf(spec, role)})`;
}

/** The full help: every mode, every flag (helpText), with size defaults in binary units. */
export function fullHelp(): string {
  const bytes = new Map(OPTIONS.filter((o) => o.kind === 'bytes').map((o) => [`  --${o.flag.padEnd(20)} `, o]));
  return helpText().split('\n').map((line) => {
    for (const [start, o] of bytes) if (line.startsWith(start)) return flagLine(o, 'all');
    return line;
  }).join('\n') + '\n\nOne mode\'s flags only: spillway help MODE (or spillway MODE --help). Version: spillway --version.' +
    '\nA terminal view of running daemons: spillway top URL... (spillway top --help).';
}

/** The flags of `mode` only, with that mode's defaults. */
export function modeHelp(mode: Mode): string {
  const role = roleOf(mode);
  const lines = [
    `Usage: spillway ${mode} [flags]`,
    ...(mode === 'beat' ? ['       spillway beat -c rtbeat.yml [-e] [-d "*"] [-E key=value]'] : []),
    '',
    `  ${mode}: ${DESCRIPTION[mode]}`,
    '',
    'Flags take one or two dashes (-port 8080, --port=8080); each also reads the environment variable shown,',
    'else --config FILE, else the default. Sizes take units: 512k, 64MiB, 1 GiB.',
    '',
    '  --config FILE            YAML file whose keys are the flag names (and mode) [SPILLWAY_CONFIG]',
    '  --print-config           print the effective settings as JSON (secrets redacted) and exit',
  ];
  if (mode === 'beat') {
    lines.push(
      '  -c FILE                  read rtbeat\'s YAML (rtbeat.*, output.elasticsearch.*, setup.*, logging.level)',
      '  -e, -d SELECTORS, -E k=v libbeat\'s flags (-d: debug logging; -E: override a YAML key)',
    );
  }
  lines.push('', `Flags of ${mode} mode:`);
  const defaults: Partial<Record<string, unknown>> = mode === 'rxtx' ? RXTX_DEFAULTS : {};
  for (const o of OPTIONS) {
    if (!flagInMode(o, mode)) continue;
    const d = defaults[o.key];
    lines.push(d === undefined ? flagLine(o, role) : flagLine({ ...o, def: d }, role));
  }
  if (role !== 'edge') {
    lines.push('', 'Outputs (--output; docs/outputs.md):');
    for (const o of OUTPUT_OPTIONS) lines.push(`  ${o.name.padEnd(14)} ${o.summary}`, `  ${''.padEnd(14)} delivery: ${o.delivery}`);
    lines.push('', 'Elasticsearch credentials come from the environment (ES_API_KEY, or ES_USERNAME and ES_PASSWORD; ES_CA_CERT for a private CA).');
  }
  lines.push('', 'Every mode\'s flags: spillway help.');
  return lines.join('\n');
}

export function versionText(): string {
  const v = buildInfo();
  return `spillway ${v.version} (Node ${v.node}, uWebSockets.js ${v.uws})`;
}

/** `spillway help [MODE]`: the text, or undefined for an unknown mode. */
export function helpFor(mode?: string): string | undefined {
  if (mode === undefined) return fullHelp();
  return (MODES as readonly string[]).includes(mode) ? modeHelp(mode as Mode) : undefined;
}
