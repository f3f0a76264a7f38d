/** Edge mode's output: the stage's /in over HTTP (sinks/http.ts), with security/link.ts's credentials, TLS and gzip. */
import type { Config } from '../../config/options.js';
import { linkOptions } from '../../security/link.js';
import { HttpSink } from '../http.js';
import type { OutputContext, OutputDef } from '../output.js';
import { httpOptions } from './options.js';

export const http: OutputDef = {
  ...httpOptions,
  build: (c: Config, ctx: OutputContext) => ({
    sink: new HttpSink({ url: c.ingest, connections: ctx.connections, timeoutMs: c.ms.txTimeout, link: linkOptions(c) }),
  }),
};
