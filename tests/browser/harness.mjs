// harness.mjs - what the browser tests (portal.test.mjs, admin.test.mjs)
// share: a real `secondnum serve` on a free loopback port over a store in a
// temporary directory (World: start, API calls, a clean stop with no
// sanitizer report), and the steps that drive headless chromium through it
// (Steps: "ok STEP" / "not ok STEP" lines, a screenshot after every step
// that has a page, the first failure stops the rest, the teardown always
// runs, and the exit code is 1 if anything failed).
//
// Invariants: a test's own seed data and steps stay in its own file; this
// module only starts, stops and reports. Every serve it starts is killed
// on the way out, failed or not. Environment: SECONDNUM (the binary,
// required), CHROMIUM (default /usr/bin/chromium), TEST_OUT, KEEP_TMP.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const SN = process.env.SECONDNUM;
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SANITIZER = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: \w+Sanitizer/;
const HEALTHZ_TRIES = 200;      // x 50 ms: how long serve may take to answer /healthz
const HEALTHZ_PAUSE_MS = 50;
const STOP_WAIT_MS = 10000;     // SIGTERM, then SIGKILL after this long
let current = null;             // the World whose serve run() kills on a crash

export function daysAgo(d, h = 0) {
  return new Date(Date.now() - (d * 86400 + h * 3600) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function cli(...args) {
  return execFileSync(SN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function assert(cond, what) {
  if (!cond) throw new Error(what);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A store in a temporary directory and the serve in front of it. A test
// extends it with its own start(): init and seed with cli(), then serve().
export class World {
  constructor(prefix) {
    this.prefix = prefix;
    current = this;
  }

  // the temporary directory and the store's path in it (not yet created)
  makeDir() {
    this.dir = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), this.prefix));
    this.db = path.join(this.dir, 'ledger.db');
  }

  // `secondnum serve --db DB --listen 127.0.0.1:PORT ...more`, up once /healthz answers
  async serve(...more) {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.stderr = '';
    this.proc = spawn(SN, ['serve', '--db', this.db, '--listen', `127.0.0.1:${this.port}`, ...more],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', d => { this.stderr += d; });
    this.exited = new Promise(resolve => this.proc.on('exit', code => resolve(code)));
    for (let i = 0; i < HEALTHZ_TRIES; i++) {
      try {
        if ((await fetch(this.base + '/healthz')).ok) break;
      } catch (e) { /* not up yet */ }
      if (this.proc.exitCode !== null) throw new Error('serve exited: ' + this.stderr.slice(-2000));
      await new Promise(r => setTimeout(r, HEALTHZ_PAUSE_MS));
    }
  }

  // One connection a call: the tests' cli() and sql() block node's loop, so
  // a kept-alive connection that serve closed meanwhile (idle past
  // SN_HTTP_REQ_TIMEOUT_MS, 10 s: slow on PostgreSQL) would be written to
  // before node saw it close ("fetch failed: other side closed").
  async api(key, method, p, body) {
    const r = await fetch(this.base + p, {
      method,
      headers: { Authorization: 'Bearer ' + key, Connection: 'close',
        ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(data)}`);
    return data;
  }

  // SIGTERM: serve must exit 0 and its stderr carry no sanitizer report
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const code = await Promise.race([this.exited, new Promise(r => setTimeout(() => r('timeout'), STOP_WAIT_MS))]);
      if (code === 'timeout') this.proc.kill('SIGKILL');
      if (code !== 0) throw new Error(`serve exited ${code} after SIGTERM: ${this.stderr.slice(-2000)}`);
    }
    if (SANITIZER.test(this.stderr)) throw new Error('sanitizer report:\n' + this.stderr.slice(-4000));
    if (!process.env.KEEP_TMP && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The steps of one test: screenshots go to $TEST_OUT/<dir>/NN-STEP.png
// (FAILED-STEP.png for the failing one); printShots also prints each path.
export class Steps {
  constructor(dir, { printShots = false } = {}) {
    this.out = path.join(process.env.TEST_OUT || path.resolve('tests/out'), dir);
    this.printShots = printShots;
    this.failed = false;
    this.shot = 0;
  }

  async screenshot(page, name) {
    const file = path.join(this.out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (this.printShots) console.log(`# screenshot ${file}`);
  }

  async step(name, page, fn) {
    if (this.failed) return;
    try {
      await fn();
      if (page) {
        this.shot++;
        await this.screenshot(page, `${String(this.shot).padStart(2, '0')}-${name}`);
      }
      console.log(`ok ${name}`);
    } catch (e) {
      this.failed = true;
      console.log(`not ok ${name}\n    ${String(e.stack || e).split('\n').join('\n    ')}`);
      if (page) await this.screenshot(page, `FAILED-${name}`).catch(() => {});
    }
  }

  // The "setup" step (the world started, chromium launched) and a page in a
  // new context with these options; the page's script errors are collected.
  async open(world, contextOptions) {
    assert(SN, 'SECONDNUM is not set');
    fs.mkdirSync(this.out, { recursive: true });
    for (const f of fs.readdirSync(this.out)) if (f.endsWith('.png')) fs.rmSync(path.join(this.out, f));
    await this.step('setup', null, async () => {
      assert(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM} (Debian package chromium)`);
      await world.start();
      this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    });
    const context = this.browser && await this.browser.newContext(contextOptions);
    const page = context && await context.newPage();
    const consoleErrors = [];
    if (page) {
      page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      page.on('pageerror', e => consoleErrors.push(String(e)));
    }
    return { page, consoleErrors };
  }

  // Always, failed or not: the browser closes, the "teardown" step stops the
  // world (serve must stop cleanly and leave no report); then exit.
  async finish(world) {
    if (this.browser) await this.browser.close();
    const before = this.failed;
    this.failed = false;
    await this.step('teardown', null, () => world.stop());
    process.exit(before || this.failed ? 1 : 0);
  }
}

// Runs a test's main(); an exception outside a step is "not ok harness",
// its serve killed, exit 1.
export function run(main) {
  main().catch(e => {
    console.log('not ok harness\n    ' + String(e.stack || e));
    if (current && current.proc && current.proc.exitCode === null) current.proc.kill('SIGKILL');
    process.exit(1);
  });
}
