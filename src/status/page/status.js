// Spillway status page: draws the samples the daemon pushes over
// /status/ws (one a second; src/status/routes.ts has the protocol) with
// uPlot, after the history read once from /status/history. The page sends nothing but an occasional "ping"; all figures are
// computed in the daemon, once for every open page.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const PALETTE = ['#2f6fde', '#e8710a', '#1a7f37', '#c62828', '#8e44ad', '#00838f', '#b26a00', '#5d6d7e', '#d81b60', '#6d4c41'];
  const HEIGHT = 180;

  /** Everything the page holds; tests and curious operators read it as window.spillwayStatus. */
  const state = { meta: undefined, capacity: 600, samples: [], charts: {}, frames: 0, connected: false, closed: undefined };
  window.spillwayStatus = state;

  // ---- formatting
  const num = (n) => {
    if (n === null || n === undefined || Number.isNaN(n)) return '–';
    const a = Math.abs(n);
    if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)} M`;
    if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
    if (a >= 100 || Number.isInteger(n)) return String(Math.round(n));
    return n.toFixed(a >= 10 ? 1 : 2);
  };
  const age = (s) => {
    if (!s) return '0 s';
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
    return `${(s / 86400).toFixed(1)} d`;
  };
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);

  // ---- what each chart draws: its series (labels) and its columns from the samples
  const col = (pick) => state.samples.map(pick);
  const CHARTS = {
    rate: {
      el: 'chart-rate',
      series: () => [{ label: 'in', scale: 'n' }, { label: 'out', scale: 'n' }],
      data: () => [col((s) => s.in), col((s) => s.out)],
    },
    ack: {
      el: 'chart-ack',
      series: () => [{ label: 'p50', scale: 'ms' }, { label: 'p99', scale: 'ms' }],
      data: () => [col((s) => (s.ack ? s.ack[0] : null)), col((s) => (s.ack ? s.ack[1] : null))],
      axes: ['ms'],
    },
    backlog: {
      el: 'chart-backlog',
      series: () => {
        const n = lastSample()?.shards.length ?? 0;
        if (n === 0) return [{ label: 'waiting for outputs', scale: 'n' }];
        return Array.from({ length: n }, (_, i) => ({ label: `shard ${i}`, scale: 'n' }));
      },
      data: () => {
        const n = lastSample()?.shards.length ?? 0;
        if (n === 0) return [col((s) => s.held)];
        return Array.from({ length: n }, (_, i) => col((s) => (s.shards[i] ?? null)));
      },
    },
    lag: {
      el: 'chart-lag',
      series: () => [
        { label: 'oldest held, s', scale: 's' },
        { label: 'delivery p50, ms', scale: 'ms', dash: [4, 4] },
        { label: 'delivery p99, ms', scale: 'ms' },
      ],
      data: () => [col((s) => s.age), col((s) => (s.tx ? s.tx[0] : null)), col((s) => (s.tx ? s.tx[1] : null))],
      axes: ['s', 'ms'],
    },
    outputs: {
      el: 'chart-outputs',
      // Failures on their own axis (right): a few a second vanish beside thousands delivered.
      series: () => outputNames().flatMap((o) => [{ label: `${o} delivered`, scale: 'n' }, { label: `${o} failed`, scale: 'f', dash: [4, 4] }]),
      data: () => outputNames().flatMap((o) => [
        col((s) => s.outputs[o]?.rate ?? null), col((s) => s.outputs[o]?.failed ?? null),
      ]),
      axes: ['n', 'f'],
    },
    refused: {
      el: 'chart-refused',
      series: () => {
        const r = refusalReasons();
        return r.length ? r.map((x) => ({ label: x, scale: 'n' })) : [{ label: 'all reasons', scale: 'n' }];
      },
      data: () => {
        const r = refusalReasons();
        return r.length ? r.map((x) => col((s) => s.refused[x] ?? 0)) : [col((s) => sum(s.refused))];
      },
    },
  };
  const lastSample = () => state.samples[state.samples.length - 1];
  const outputNames = () => Object.keys(lastSample()?.outputs ?? {});
  const refusalReasons = () => {
    const seen = new Set();
    for (const s of state.samples) for (const k of Object.keys(s.refused)) seen.add(k);
    return [...seen].sort();
  };

  // ---- drawing
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  function build(key) {
    const spec = CHARTS[key];
    const el = $(spec.el);
    const series = spec.series();
    const fg = css('--muted') || '#6b7280';
    const grid = css('--line') || '#e3e6ea';
    const axis = (scale, side) => ({
      scale, side, stroke: fg, grid: { stroke: grid, width: 1, show: side !== 1 }, ticks: { stroke: grid }, size: 56,
      values: (u, vals) => vals.map(num),
    });
    const scales = spec.axes ?? ['n'];
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      scales: { x: { time: true }, ...Object.fromEntries(scales.map((s) => [s, { auto: true, range: (u, lo, hi) => [0, Math.max(hi, 1) * 1.05] }])) },
      axes: [{ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } }, ...scales.map((s, i) => axis(s, i === 0 ? 3 : 1))],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, scale: s.scale, stroke: PALETTE[i % PALETTE.length], width: 1.5, dash: s.dash, points: { show: false },
        value: (u, v) => num(v),
      }))],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    el.textContent = '';
    const chart = new uPlot(opts, [col((s) => s.t), ...spec.data()], el);
    return { chart, signature: series.map((s) => s.label).join('\n') };
  }

  function draw() {
    for (const key of Object.keys(CHARTS)) {
      const spec = CHARTS[key];
      const have = state.charts[key];
      const signature = spec.series().map((s) => s.label).join('\n');
      if (!have || have.signature !== signature) {
        have?.chart.destroy();
        state.charts[key] = build(key);
      } else {
        have.chart.setData([col((s) => s.t), ...spec.data()]);
      }
    }
  }

  function figures() {
    const s = lastSample();
    if (!s) return;
    $('f-in').textContent = num(s.in);
    $('f-out').textContent = num(s.out);
    $('f-ack').textContent = s.ack ? `${num(s.ack[0])} / ${num(s.ack[1])}` : '–';
    $('f-held').textContent = num(s.held);
    $('f-age').textContent = age(s.age);
    $('f-refused').textContent = num(sum(s.refused));
    const ready = $('ready');
    ready.textContent = s.ready ? 'ready' : `not ready: ${s.notReady}`;
    ready.className = `pill ${s.ready ? 'ok' : 'bad'}`;
    const body = document.querySelector('#outputs tbody');
    body.textContent = '';
    for (const [name, o] of Object.entries(s.outputs)) {
      const tr = document.createElement('tr');
      const health = o.up === null ? ['idle', 'no attempt yet'] : o.up ? ['up', 'up'] : ['down', `down: ${o.reason ?? ''}`];
      for (const [text, cls] of [[name], [health[1], health[0]], [num(o.rate)], [num(o.failed)], [num(o.retried)]]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  // ---- the socket: a hello, then one sample a second; the history comes once over HTTP
  let loading = false;
  let pending = [];

  function onHello(m) {
    state.meta = m;
    state.capacity = m.capacity;
    $('role').textContent = m.role;
    $('name').textContent = m.name;
    $('minutes').textContent = String(Math.round(m.capacity / 60));
    if (m.role === 'beat') {
      $('ack-caption').textContent = 'Output request latency (a batch is acknowledged once its outputs have), ms';
      $('f-ack-label').textContent = 'output p50 / p99 ms';
    }
    // Samples pushed while the history loads are kept and appended after it.
    loading = true;
    pending = [];
    fetch('/status/history', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((history) => {
        const lastT = history.length ? history[history.length - 1].t : -Infinity;
        state.samples = history.concat(pending.filter((s) => s.t > lastT)).slice(-state.capacity);
      }, () => {
        state.samples = pending;
      })
      .finally(() => {
        loading = false;
        pending = [];
        figures();
        draw();
      });
  }

  function onSample(s) {
    if (loading) {
      pending.push(s);
      return;
    }
    state.samples.push(s);
    if (state.samples.length > state.capacity) state.samples.splice(0, state.samples.length - state.capacity);
    figures();
    draw();
  }

  let retryMs = 500;
  function connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/status/ws`);
    ws.onopen = () => {
      state.connected = true;
      retryMs = 500;
      $('link').textContent = 'live';
    };
    ws.onmessage = (ev) => {
      state.frames++;
      const m = JSON.parse(ev.data);
      if (m.type === 'hello') onHello(m);
      else if (m.type === 'sample') onSample(m);
    };
    ws.onclose = (ev) => {
      state.connected = false;
      state.closed = { code: ev.code, reason: ev.reason };
      // 1013: too many pages open; wait longer before trying again.
      const wait = ev.code === 1013 ? 30_000 : retryMs;
      retryMs = Math.min(retryMs * 2, 10_000);
      $('link').textContent = `disconnected (${ev.code}${ev.reason ? `: ${ev.reason}` : ''}); retrying in ${Math.round(wait / 1000)} s`;
      setTimeout(connect, wait);
    };
  }

  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [key, c] of Object.entries(state.charts)) c.chart.setSize({ width: Math.max(200, $(CHARTS[key].el).clientWidth), height: HEIGHT });
    }, 100);
  });

  connect();
})();
