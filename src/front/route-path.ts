/**
 * /rx/PRODUCER/KEY/LABEL... → its parts. Segments are percent-decoded;
 * producer and key must be non-empty, the label needs at least one non-empty
 * segment and keeps its leading slash, as rxtx's router gives it.
 */
export type RxMode = 'rx' | 'rxs' | 'rxa' | 'rxb';

export interface RxTarget {
  mode: RxMode;
  producer: string;
  key: string;
  label: string;
}

export type PathVerdict = RxTarget | { status: 400 | 404; message: string };

const MAX_SEGMENT = 256;
const MAX_LABEL = 1024;
// Control characters have no business in names that end up as keyword fields.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function parseRxPath(url: string): PathVerdict {
  const m = /^\/(rx|rxs|rxa|rxb)\/([^/]*)\/([^/]*)(\/.*)?$/.exec(url);
  if (!m) return { status: 404, message: 'route is /rx/PRODUCER/KEY/LABEL...' };
  const [, mode, rawProducer, rawKey, rawLabel] = m;
  let producer = rawProducer!;
  let key = rawKey!;
  let label = rawLabel ?? '';
  // Most paths hold no escapes: decode only when there is something to decode.
  if (url.includes('%')) {
    try {
      producer = decodeURIComponent(producer);
      key = decodeURIComponent(key);
      label = decodeURIComponent(label);
    } catch {
      return { status: 400, message: 'path has malformed percent-encoding' };
    }
  }
  if (!producer || !key) return { status: 404, message: 'producer and key must not be empty' };
  if (!/[^/]/.test(label)) return { status: 404, message: 'a label is required: /rx/PRODUCER/KEY/LABEL...' };
  if (producer.length > MAX_SEGMENT || key.length > MAX_SEGMENT || label.length > MAX_LABEL) {
    return { status: 400, message: `producer and key are limited to ${MAX_SEGMENT} characters, the label to ${MAX_LABEL}` };
  }
  // Unescaped, the three parts are substrings of the URL: one test covers them.
  if (url.includes('%') ? CONTROL.test(producer) || CONTROL.test(key) || CONTROL.test(label) : CONTROL.test(url)) {
    return { status: 400, message: 'path holds control characters' };
  }
  return { mode: mode as RxMode, producer, key, label };
}

/** Idempotency-Key: 1–255 visible ASCII characters. */
export function checkIdempotencyKey(value: string): string | undefined {
  if (value.length === 0 || value.length > 255 || !/^[\x21-\x7e]+$/.test(value)) {
    return 'Idempotency-Key must be 1 to 255 visible ASCII characters';
  }
  return undefined;
}
