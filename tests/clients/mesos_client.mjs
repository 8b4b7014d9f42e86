#!/usr/bin/env node
// Runs @dcos/mesos-client, unmodified, where it was made to run: in a browser page (headless
// Chromium), bundled as the DC/OS UI's webpack bundled it (its `module` sources, with the
// `events` package for Node's EventEmitter). The page is at the master's origin, so the
// client's XHRs go to the master's operator API as they go to `/mesos/api/v1` behind the
// DC/OS admin router, on the same origin; the client's documented `url` argument says
// `/api/v1`.
//
// It makes the operator calls given, one after another, then opens the SUBSCRIBE stream and
// keeps it until its stdin closes. Everything the client hands over is written to stdout as
// one JSON object a line, untouched (bodies and records as the text the client gives):
//   {"kind": "response", "call": {...}, "text": "..."}            request(...) emitted a value
//   {"kind": "error", "call": {...}, "error": {code, message, response}}  request(...) failed
//   {"kind": "record", "text": "..."}                            stream(...) emitted a record
//   {"kind": "stream_error", "error": {...}} / {"kind": "stream_complete"}
//   {"kind": "subscribed"}   written once the stream is open (before any record is awaited)
// Exit status 0 after stdin closes, 1 on a failure of this script (not of the client), 2 on
// bad arguments.
//
// Usage: node mesos_client.mjs --master http://127.0.0.1:5050 --calls '[{"type": "GET_STATE"}]'
//        [--chromium /usr/bin/chromium] [--timeout 120]

import { chromium } from 'playwright-core';
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

function parseArgs(argv) {
  const opts = { chromium: '/usr/bin/chromium', timeout: 120, calls: '[]' };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (!key.startsWith('--') || value === undefined) {
      throw new Error(`bad argument ${key}`);
    }
    opts[key.slice(2)] = value;
  }
  if (!opts.master) {
    throw new Error('--master is required');
  }
  opts.calls = JSON.parse(opts.calls);
  opts.timeout = Number(opts.timeout);
  return opts;
}

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

async function bundle() {
  const result = await esbuild.build({
    stdin: {
      contents: 'export { request, stream } from "@dcos/mesos-client";',
      resolveDir: HERE,
    },
    bundle: true,
    format: 'iife',
    globalName: 'MesosClient',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const stdinClosed = new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
  const timer = setTimeout(() => {
    process.stderr.write(`mesos_client.mjs: stdin still open after ${opts.timeout}s\n`);
    process.exit(1);
  }, opts.timeout * 1000);

  const code = await bundle();
  const browser = await chromium.launch({ executablePath: opts.chromium, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error}\n`));
    await page.exposeFunction('report', emit);
    // Any page of the master's origin will do; /health is one with no side effects.
    await page.goto(new URL('/health', opts.master).href);
    await page.addScriptTag({ content: code });

    for (const call of opts.calls) {
      await page.evaluate(
        (call) =>
          new Promise((resolve) => {
            // eslint-disable-next-line no-undef
            MesosClient.request(call, '/api/v1').subscribe({
              next: (text) => window.report({ kind: 'response', call, text }),
              error: (error) => {
                window.report({ kind: 'error', call, error }).then(resolve);
              },
              complete: resolve,
            });
          }),
        call,
      );
    }

    await page.evaluate(() => {
      // eslint-disable-next-line no-undef
      window.subscription = MesosClient.stream({ type: 'SUBSCRIBE' }, '/api/v1').subscribe({
        next: (text) => window.report({ kind: 'record', text }),
        error: (error) => window.report({ kind: 'stream_error', error }),
        complete: () => window.report({ kind: 'stream_complete' }),
      });
    });
    emit({ kind: 'subscribed' });

    await stdinClosed;
    // Unsubscribing is how a page stops the stream: the connection manager aborts the XHR.
    await page.evaluate(() => window.subscription.unsubscribe());
  } finally {
    await browser.close();
    clearTimeout(timer);
  }
}

main().catch((error) => {
  process.stderr.write(`mesos_client.mjs: ${error.stack || error}\n`);
  process.exit(1);
});
