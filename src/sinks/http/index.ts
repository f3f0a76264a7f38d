/** Edge mode's output: the stage's /in over HTTP (sinks/http.ts). */
import type { Config } from '../../config/options.js';
import { HttpSink } from '../http.js';
import { linkOptions } from '../../security/link.js';
import type { OutputContext, OutputDef } from '../output.js';
import { httpOptions } from './options.js';

export const http: OutputDef = {
  ...httpOptions,
  build: (c: Config, ctx: OutputContext) => ({
    sink: new HttpSink({ url: c.ingest, connections: ctx.connections, timeoutMs: c.txTimeout * 1000, link: linkOptions(c) }),
  }),
};
