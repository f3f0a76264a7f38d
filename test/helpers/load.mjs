// Drive many concurrent keep-alive connections at a Spillway edge and keep
// every acknowledged uuid. Requests that are refused are counted by status.
import { Agent, request } from 'undici';

export async function postMany(url, { total, connections = 64, path = (i) => `/rx/p${i % 17}/k${i % 5}/load/test`, body = (i) => JSON.stringify({ i, pos: 'terminal-7', amount: i % 1000 }), stopWhen, headers = () => ({}) } = {}) {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const acked = new Set();
  const refused = new Map();
  let next = 0;
  let errors = 0;
  async function worker() {
    while (next < total && !stopWhen?.()) {
      const i = next++;
      try {
        const r = await request(url + path(i), { method: 'POST', body: body(i), dispatcher: agent, headers: { 'content-type': 'application/json', ...headers(i) } });
        const text = await r.body.text();
        if (r.statusCode === 200) acked.add(JSON.parse(text).uuid);
        else refused.set(r.statusCode, (refused.get(r.statusCode) ?? 0) + 1);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  await agent.close();
  return { acked, refused, errors, sent: next };
}
