// The HTTP accept ceiling: a uWebSockets.js server that reads the body and
// answers the same 200 JSON Spillway does, with no parsing and no storage.
import { loadUws } from '../dist/front/uws.js';

const uws = loadUws();
const port = Number(process.argv[2] ?? 0);
const app = uws.App();
app.any('/*', (res) => {
  res.onAborted(() => {});
  res.onData((_chunk, isLast) => {
    if (isLast) res.cork(() => res.writeHeader('Content-Type', 'application/json').end('{"status":"OK"}'));
  });
});
app.listen('127.0.0.1', port, (token) => {
  if (!token) process.exit(2);
  process.stdout.write(`${uws.us_socket_local_port(token)}\n`);
});
