/**
 * Beats' date tokens in output patterns, "rtbeat-%{+yyyy.MM.dd}", shared by
 * every output that names its target from a pattern (Elasticsearch and
 * OpenSearch indices: elasticsearch/index-name.ts; Kafka topics:
 * kafka/topic.ts). The date comes from an RFC 3339 UTC string (a message's
 * time, so a resent message goes where it went the first time).
 *
 * Tokens: yyyy, MM, dd, HH; mm (minutes) only when `utc` carries them.
 */
export const DATE_TOKEN = /%\{\+([^}]+)\}/g;

/** A message's time as a UTC "Z" string (anything else is normalised). */
export function utcTime(time: string): string {
  return time.endsWith('Z') ? time : new Date(time).toISOString();
}

/** `pattern` with every %{+…} date token resolved from `utc` (a UTC ISO string, or a prefix of one down to the hour). */
export function resolveDateTokens(pattern: string, utc: string): string {
  return pattern.replace(DATE_TOKEN, (_, fmt: string) => {
    let out = fmt
      .replace(/yyyy/g, utc.slice(0, 4))
      .replace(/MM/g, utc.slice(5, 7))
      .replace(/dd/g, utc.slice(8, 10))
      .replace(/HH/g, utc.slice(11, 13));
    if (utc.length >= 16) out = out.replace(/mm/g, utc.slice(14, 16));
    return out;
  });
}
