// The HTTPS accept ceiling: bench/noop-server.mjs over uWebSockets.js's
// SSLApp (as `spillway edge --tls-cert --tls-key` listens): reads the body
// and answers Spillway's 200, no parsing, no storage.
//   node bench/noop-tls-server.mjs <port|0> <cert.pem> <key.pem>
// Prints the port it listens on.
import { loadUws } from '../dist/front/uws.js';

const uws = loadUws();
const [portArg, cert, key] = process.argv.slice(2);
const app = uws.SSLApp({ cert_file_name: cert, key_file_name: key });
app.any('/*', (res) => {
  res.onAborted(() => {});
  res.onData((_chunk, isLast) => {
    if (isLast) res.cork(() => res.writeHeader('Content-Type', 'application/json').end('{"status":"OK"}'));
  });
});
app.listen('127.0.0.1', Number(portArg ?? 0), (token) => {
  if (!token) process.exit(2);
  process.stdout.write(`${uws.us_socket_local_port(token)}\n`);
});
