#!/usr/bin/env node
// Runs one notebook in JupyterLab in headless Chromium and checks what the page shows.
//
// It starts nothing itself: JupyterLab must already be running (tests/browser/test_browser.py
// starts one). It opens the notebook, makes sure the expected kernel is selected, runs all
// cells from the Run menu, waits (with a deadline) until the kernel is idle and every code
// cell has an execution count, then checks the page:
//   - no cell shows an error, except cells tagged `raises-exception` in the notebook file
//     (read through the server's contents API);
//   - each expectation of the spec holds (see SPEC below).
// Screenshots (full page) land in --out: <name>-1-loaded.png, <name>-2-final.png, and
// <name>-failure.png when something goes wrong. Exit status 0 when everything holds, 1 with
// the reason and the screenshot path on stderr when not, 2 on bad arguments.
//
// Usage:
//   node run_notebook.mjs --url 'http://127.0.0.1:8888/?token=T' --notebook notebooks/X.ipynb
//        [--spec spec.json | --spec '{"expect": [...]}'] [--out build/screenshots]
//        [--name X] [--theme light|dark] [--timeout 90] [--chromium /usr/bin/chromium]
//
// SPEC (JSON): {"kernel": "Mesos", "timeout": 90, "expect": [E, ...]} where each E is
//   {"kind": "html_table", "cell": "%vars"}            an HTML table in that cell's output
//   {"kind": "json_tree",  "cell": "map(ascii_upcase)"} JupyterLab's JSON viewer
//   {"kind": "vega",       "cell": "RESOURCES"}         a Vega(-Lite) chart with an svg/canvas
//   {"kind": "text",       "cell": "PRINT", "text": "total cpus: 6"}
//   {"kind": "error",      "cell": "ASSERT", "text": "AssertionFailed"}  this cell must fail
//   {"kind": "selector",   "cell": "TASKS", "selector": ".mesos-kernel-table td.mk-good"}
// "cell" is a substring of the cell's source (the first code cell that contains it); without
// it the expectation holds when any output of the notebook satisfies it. "min" (default 1)
// is the least number of matching elements.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often have a tiny /dev/shm; Chromium then crashes on large pages.
  '--disable-dev-shm-usage',
];

const THEMES = { light: 'JupyterLab Light', dark: 'JupyterLab Dark' };

// Where a kind of expectation looks, inside a cell's output area.
const KIND_SELECTORS = {
  html_table: '.jp-OutputArea-output.jp-RenderedHTMLCommon table',
  json_tree: '.jp-OutputArea-output.jp-RenderedJSON',
  vega: '.jp-OutputArea-output .vega-embed svg, .jp-OutputArea-output .vega-embed canvas',
};

class Failure extends Error {}

function usage(message) {
  if (message) console.error(`run_notebook: ${message}`);
  else console.error(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n\nimport ')[0]);
  console.error(
    'usage: node run_notebook.mjs --url URL_WITH_TOKEN --notebook PATH [--spec FILE_OR_JSON]\n' +
      '         [--out DIR] [--name NAME] [--theme light|dark] [--timeout SECONDS] [--chromium PATH]',
  );
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const opts = {
    out: 'build/screenshots',
    chromium: '/usr/bin/chromium',
    spec: '{}',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') usage();
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) usage(`unexpected argument: ${arg}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) usage(`${arg} needs a value`);
    opts[m[1]] = value;
  }
  for (const required of ['url', 'notebook']) {
    if (!opts[required]) usage(`--${required} is required`);
  }
  if (opts.theme && !THEMES[opts.theme]) usage(`--theme is light or dark, not ${opts.theme}`);
  return opts;
}

function loadSpec(text) {
  const raw = text.trim().startsWith('{') ? text : fs.readFileSync(text, 'utf8');
  const spec = JSON.parse(raw);
  spec.expect ??= [];
  for (const e of spec.expect) {
    const known = ['html_table', 'json_tree', 'vega', 'text', 'error', 'selector'];
    if (!known.includes(e.kind)) throw new Error(`spec: unknown kind ${JSON.stringify(e.kind)}`);
    if (e.kind === 'text' && !e.text) throw new Error('spec: a "text" expectation needs "text"');
    if (e.kind === 'selector' && !e.selector) throw new Error('spec: "selector" needs "selector"');
  }
  return spec;
}

// The server's base URL (ending in "/") and token, from a URL such as
// http://127.0.0.1:8888/lab?token=T or http://127.0.0.1:8888/?token=T.
function serverFrom(url) {
  const u = new URL(url);
  const token = u.searchParams.get('token') ?? '';
  let base = u.pathname.replace(/\/(lab|tree|doc)(\/.*)?$/, '/');
  if (!base.endsWith('/')) base += '/';
  return { origin: u.origin, base, token, root: `${u.origin}${base}` };
}

async function api(server, method, route, body) {
  const res = await fetch(`${server.root}${route}`, {
    method,
    headers: {
      Authorization: `token ${server.token}`,
      'Content-Type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    throw new Failure(`${method} ${route}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

function encodePath(p) {
  return p.split('/').map(encodeURIComponent).join('/');
}

// The notebook as the server reads it from disk: cell kinds, sources and tags.
async function readNotebook(server, notebookPath) {
  const model = await api(server, 'GET', `api/contents/${encodePath(notebookPath)}?content=1`);
  const cells = model.content.cells.map((c, index) => ({
    index,
    type: c.cell_type,
    source: Array.isArray(c.source) ? c.source.join('') : c.source,
    tags: c.metadata?.tags ?? [],
  }));
  const kernelspec = model.content.metadata?.kernelspec ?? {};
  return { cells, kernelspec };
}

function log(message) {
  const t = ((Date.now() - START) / 1000).toFixed(1).padStart(5);
  console.log(`[run_notebook ${t}s] ${message}`);
}

const START = Date.now();

// Polls `check` (an async function returning a truthy value when done) every `interval` ms
// until it holds or `deadline` (epoch ms) passes; then throws Failure(describe()).
async function until(check, deadline, describe, interval = 200) {
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Failure(await describe());
    await new Promise((r) => setTimeout(r, interval));
  }
}

// The notebook panel the page currently shows.
const PANEL = '.jp-NotebookPanel:not(.lm-mod-hidden)';

async function kernelName(page) {
  return page
    .locator(`${PANEL} [data-jp-item-name="kernelName"] .jp-ToolbarButtonComponent-label`)
    .first()
    .textContent({ timeout: 1000 })
    .then((t) => (t ?? '').trim())
    .catch(() => '');
}

// Picks `display` in JupyterLab's kernel dialog when one is open; true when it did.
async function answerKernelDialog(page, display) {
  const dialog = page.locator('.jp-Dialog').first();
  if (!(await dialog.isVisible().catch(() => false))) return false;
  const select = dialog.locator('select').first();
  if (await select.count()) {
    const labels = await select.locator('option').allTextContents();
    const label = labels.find((l) => l.trim() === display);
    if (!label) {
      throw new Failure(`kernel dialog has no "${display}" (it offers: ${labels.join(', ')})`);
    }
    await select.selectOption({ label });
  } else {
    // Newer dialogs list kernels as items; click the one with the right name.
    const item = dialog.getByText(display, { exact: true }).first();
    if (!(await item.count())) throw new Failure(`kernel dialog has no "${display}"`);
    await item.click();
  }
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').first().click();
  log(`picked kernel "${display}" in the kernel dialog`);
  return true;
}

// Makes sure the notebook runs on the kernel whose display name is `display`.
async function ensureKernel(page, display, deadline) {
  await until(
    async () => {
      if (await answerKernelDialog(page, display)) return false;
      const name = await kernelName(page);
      return name && !/^(no kernel|starting|connecting)/i.test(name) ? name : false;
    },
    deadline,
    async () => `no kernel was selected (toolbar says "${await kernelName(page)}")`,
  );
  let name = await kernelName(page);
  if (name !== display) {
    log(`kernel is "${name}"; switching to "${display}"`);
    await page.locator(`${PANEL} [data-jp-item-name="kernelName"] jp-button`).first().click();
    await until(() => answerKernelDialog(page, display), deadline, () => 'no kernel dialog opened');
    await until(
      async () => (await kernelName(page)) === display,
      deadline,
      async () => `kernel is "${await kernelName(page)}", not "${display}"`,
    );
    name = display;
  }
  // The kernel has started once the execution indicator reports idle.
  await until(
    async () => (await executionStatus(page)) === 'idle',
    deadline,
    async () => `kernel "${name}" did not become idle (status: ${await executionStatus(page)})`,
  );
  log(`kernel "${name}" is idle`);
}

async function executionStatus(page) {
  return page
    .locator(`${PANEL} .jp-Notebook-ExecutionIndicator`)
    .first()
    .getAttribute('data-status', { timeout: 1000 })
    .catch(() => null);
}

// The input prompts of the code cells, in order: "[3]:", "[*]:", "[ ]:".
async function prompts(page) {
  return page.locator(`${PANEL} .jp-Notebook .jp-CodeCell .jp-InputPrompt`).allInnerTexts();
}

function promptCount(prompt) {
  const m = /\[(\d+)\]/.exec(prompt);
  return m ? Number(m[1]) : null;
}

async function runAllCells(page) {
  // Focus the notebook (command mode) so the menu command applies to it.
  await page.locator(`${PANEL} .jp-Notebook .jp-InputPrompt`).first().click();
  try {
    await page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click({ timeout: 5000 });
    await page
      .locator('.lm-Menu-item', { hasText: /^Run All Cells/ })
      .first()
      .click({ timeout: 5000 });
    log('Run > Run All Cells');
  } catch (e) {
    // Fall back to the command palette.
    log(`menu failed (${e.message.split('\n')[0]}); using the command palette`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+C');
    const input = page.locator('.lm-CommandPalette-input');
    await input.fill('Run All Cells');
    await page.locator('.lm-CommandPalette-item', { hasText: /^Run All Cells/ }).first().click();
    log('command palette: Run All Cells');
  }
}

// Waits until the kernel is idle and no cell is queued or running; true when every code
// cell then has an execution count.
async function waitForRun(page, codeCells, deadline) {
  // The run has started once some prompt shows "[*]" or a count.
  await until(
    async () => (await prompts(page)).some((p) => p.includes('*') || promptCount(p) !== null),
    deadline,
    () => 'no cell started running after Run All Cells',
  );
  let stableSince = null;
  const last = await until(
    async () => {
      const ps = await prompts(page);
      const status = await executionStatus(page);
      const pending = ps.some((p) => p.includes('*'));
      if (pending || status !== 'idle') {
        stableSince = null;
        return false;
      }
      if (ps.length === codeCells && ps.every((p) => promptCount(p) !== null)) return ps;
      // Idle with cells left unrun: a failing cell stopped the run. Confirm over a second
      // of polls that nothing is still queued before reporting it.
      stableSince ??= Date.now();
      return Date.now() - stableSince > 1000 ? ps : false;
    },
    deadline,
    async () =>
      `the notebook did not finish running (kernel ${await executionStatus(page)}, prompts ` +
      `${(await prompts(page)).join(' ')})`,
  );
  log(`run finished: ${last.join(' ')}`);
  return last;
}

// What the notebook model holds for each cell (output types, error names): the only place
// where an error output differs from stderr text, since JupyterLab renders both as
// application/vnd.jupyter.stderr. Needs JupyterLab started with
// --LabApp.expose_app_in_browser=True; null otherwise.
async function modelOutputs(page) {
  return page.evaluate(() => {
    const app = window.jupyterapp;
    const widget = app?.shell?.currentWidget;
    const cells = widget?.content?.model?.cells;
    if (!cells) return null;
    const out = [];
    for (let i = 0; i < cells.length; i++) {
      const c = cells.get(i);
      const outputs = [];
      for (let j = 0; j < (c.outputs?.length ?? 0); j++) {
        const o = c.outputs.get(j).toJSON();
        outputs.push({ type: o.output_type, ename: o.ename, evalue: o.evalue });
      }
      out.push({ type: c.type, executionCount: c.executionCount ?? null, outputs });
    }
    return out;
  });
}

// For each notebook cell: its rendered outputs as the page shows them.
async function domCells(page) {
  return page.evaluate((panel) => {
    const cells = [];
    for (const n of document.querySelectorAll(`${panel} .jp-Notebook .jp-Cell`)) {
      const outputs = [...n.querySelectorAll('.jp-OutputArea-output')].map((o) => ({
        mime: o.getAttribute('data-mime-type'),
        text: o.innerText,
      }));
      cells.push({
        code: n.classList.contains('jp-CodeCell'),
        prompt: n.querySelector('.jp-InputPrompt')?.innerText ?? '',
        outputText: n.querySelector('.jp-Cell-outputArea')?.innerText ?? '',
        outputs,
      });
    }
    return cells;
  }, PANEL);
}

// Heuristic used only without the app model: a stderr output that ends like a traceback
// ("Name: message" on its last line, the way Jupyter kernels end one).
function looksLikeError(output) {
  if (output.mime !== 'application/vnd.jupyter.stderr') return false;
  const lines = output.text.trim().split('\n');
  return /^[A-Za-z_][\w.]*(Error|Exception|Failed|Timeout|Interrupted|Call|Magic)\b.*:/.test(
    lines[lines.length - 1] ?? '',
  );
}

function short(s, n = 60) {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

// Everything wrong with the page, as a list of sentences (empty when all holds).
async function findProblems(page, notebook, spec) {
  const problems = [];
  const dom = await domCells(page);
  const model = await modelOutputs(page);
  if (dom.length !== notebook.cells.length) {
    problems.push(
      `the page shows ${dom.length} cells, the notebook file has ${notebook.cells.length} ` +
        '(is the notebook setting windowingMode "none"?)',
    );
    return problems;
  }
  const counts = new Set();
  for (const cell of notebook.cells) {
    if (cell.type !== 'code') continue;
    const d = dom[cell.index];
    const label = `cell ${cell.index} (${short(cell.source)})`;
    const count = promptCount(d.prompt);
    if (count === null) {
      problems.push(`${label} did not run (prompt ${d.prompt || 'empty'})`);
    } else if (counts.has(count)) {
      // An aborted request (after an earlier error) is answered with the current count.
      problems.push(`${label} did not run (aborted after an earlier error; prompt ${d.prompt})`);
    }
    if (count !== null) counts.add(count);
    const mayFail = cell.tags.includes('raises-exception');
    let errors;
    if (model) {
      errors = model[cell.index].outputs
        .filter((o) => o.type === 'error')
        .map((o) => `${o.ename}: ${o.evalue}`);
      // The error must also be on the page, not only in the model.
      for (const e of errors) {
        const shown = d.outputs.some(
          (o) => o.mime === 'application/vnd.jupyter.stderr' && o.text.includes(e.split(': ')[0]),
        );
        if (!shown) problems.push(`${label}: error "${short(e)}" is not rendered`);
      }
    } else {
      errors = d.outputs.filter(looksLikeError).map((o) => o.text.trim().split('\n').pop());
    }
    if (errors.length && !mayFail) {
      problems.push(`${label} shows an error: ${short(errors.join(' | '), 200)}`);
    }
    cell.errors = errors;
  }
  for (const e of spec.expect) {
    const problem = await checkExpectation(page, notebook, dom, e);
    if (problem) problems.push(problem);
  }
  return problems;
}

async function checkExpectation(page, notebook, dom, e) {
  const what = `${e.kind}${e.text ? ` "${e.text}"` : ''}${e.selector ? ` ${e.selector}` : ''}`;
  let cell = null;
  if (e.cell) {
    cell = notebook.cells.find((c) => c.type === 'code' && c.source.includes(e.cell));
    if (!cell) return `expected ${what}: no code cell contains "${e.cell}"`;
  }
  const where = cell ? `in the output of cell ${cell.index} (${short(cell.source)})` : 'in any output';
  if (e.kind === 'text') {
    const texts = cell ? [dom[cell.index].outputText] : dom.map((d) => d.outputText);
    return texts.some((t) => t.includes(e.text)) ? null : `expected text "${e.text}" ${where}`;
  }
  if (e.kind === 'error') {
    if (!cell) return 'an "error" expectation needs "cell"';
    const errors = cell.errors ?? [];
    if (!errors.length) return `expected an error ${where}, there is none`;
    if (e.text && !errors.some((x) => x.includes(e.text))) {
      return `expected an error with "${e.text}" ${where}, got: ${errors.join(' | ')}`;
    }
    return null;
  }
  const selector = e.kind === 'selector' ? e.selector : KIND_SELECTORS[e.kind];
  const min = e.min ?? 1;
  const found = await page.evaluate(
    ({ panel, index, selector }) => {
      const cells = [...document.querySelectorAll(`${panel} .jp-Notebook .jp-Cell`)];
      const scope = index === null ? cells : [cells[index]];
      let n = 0;
      for (const c of scope) {
        const area = c?.querySelector('.jp-Cell-outputArea');
        if (!area) continue;
        // Only elements the page actually lays out (not display:none).
        n += [...area.querySelectorAll(selector)].filter((el) => el.getClientRects().length > 0).length;
      }
      return n;
    },
    { panel: PANEL, index: cell ? cell.index : null, selector },
  );
  return found >= min ? null : `expected ${what} ${where} (found ${found} of ${min})`;
}

// Grows the viewport to the notebook's full height, so a full-page screenshot shows every
// cell (JupyterLab scrolls the notebook inside a fixed-size page).
async function fitViewportToNotebook(page, width) {
  const bottomOfLastCell = () =>
    page.evaluate((panel) => {
      const scroller = document.querySelector(`${panel} .jp-WindowedPanel-outer`);
      const cells = document.querySelectorAll(`${panel} .jp-Notebook .jp-Cell`);
      if (!scroller || !cells.length) return null;
      scroller.scrollTop = 0;
      const last = cells[cells.length - 1].getBoundingClientRect().bottom;
      return { last, visible: scroller.getBoundingClientRect().bottom };
    }, PANEL);
  const before = await bottomOfLastCell();
  if (!before || before.last <= before.visible) return;
  const size = page.viewportSize();
  const height = Math.min(Math.ceil(size.height + before.last - before.visible + 24), 12000);
  await page.setViewportSize({ width, height });
  // Wait (briefly) for the layout to follow the new size.
  await until(
    async () => {
      const now = await bottomOfLastCell();
      return !now || now.last <= now.visible;
    },
    Date.now() + 3000,
    () => 'layout did not settle',
    100,
  ).catch(() => {});
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let spec;
  try {
    spec = loadSpec(opts.spec);
  } catch (e) {
    usage(`bad --spec: ${e.message}`);
  }
  const timeout = Number(opts.timeout ?? spec.timeout ?? 90) * 1000;
  const deadline = START + timeout;
  const server = serverFrom(opts.url);
  const name = opts.name ?? path.basename(opts.notebook, '.ipynb');
  const outDir = path.resolve(opts.out);
  fs.mkdirSync(outDir, { recursive: true });
  const shot = (suffix) => path.join(outDir, `${name}-${suffix}.png`);
  for (const f of fs.readdirSync(outDir)) {
    if (f.startsWith(`${name}-`) && f.endsWith('.png')) fs.rmSync(path.join(outDir, f));
  }

  const notebook = await readNotebook(server, opts.notebook);
  const display = spec.kernel ?? notebook.kernelspec.display_name ?? 'Mesos';
  const codeCells = notebook.cells.filter((c) => c.type === 'code').length;
  const mayFail = notebook.cells.filter((c) => c.tags.includes('raises-exception'));
  log(
    `${opts.notebook}: ${notebook.cells.length} cells, ${codeCells} code, ` +
      `${mayFail.length} tagged raises-exception; kernel "${display}"`,
  );
  if (opts.theme) {
    await api(server, 'PUT', 'lab/api/settings/@jupyterlab/apputils-extension:themes', {
      raw: JSON.stringify({ theme: THEMES[opts.theme] }),
    });
    log(`theme: ${THEMES[opts.theme]}`);
  }
  const sessionsBefore = new Set((await api(server, 'GET', 'api/sessions')).map((s) => s.id));

  const width = 1280;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesos-kernel-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    viewport: { width, height: 900 },
  });
  const pageErrors = [];
  let failed = null;
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      const url = `${server.root}lab/tree/${encodePath(opts.notebook)}?reset&token=${encodeURIComponent(server.token)}`;
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeout });
      await until(
        async () => (await page.locator(`${PANEL} .jp-Notebook .jp-Cell`).count()) === notebook.cells.length,
        deadline,
        async () =>
          `the notebook did not open (${await page.locator('.jp-Cell').count()} of ` +
          `${notebook.cells.length} cells on the page)`,
      );
      log('notebook open');
      // A wider notebook: fold the left sidebar (file browser) when the app is reachable.
      await page.evaluate(() => window.jupyterapp?.shell?.collapseLeft?.()).catch(() => {});
      await ensureKernel(page, display, deadline);
      await page.screenshot({ path: shot('1-loaded'), fullPage: true });
      await runAllCells(page);
      await waitForRun(page, codeCells, deadline);
      // Rich outputs (charts) render after the kernel is idle: poll the checks a while.
      const checkDeadline = Math.min(deadline, Date.now() + 15000);
      let problems = [];
      await until(
        async () => {
          problems = await findProblems(page, notebook, spec);
          return problems.length === 0;
        },
        checkDeadline,
        () => 'checks failed',
        300,
      ).catch(() => {});
      await fitViewportToNotebook(page, width);
      if (problems.length) {
        await page.screenshot({ path: shot('failure'), fullPage: true });
        failed = { reasons: problems, screenshot: shot('failure') };
      } else {
        await page.screenshot({ path: shot('2-final'), fullPage: true });
        log(`all checks hold (${spec.expect.length} expectations, ${codeCells} code cells)`);
        log(`screenshots: ${shot('1-loaded')} ${shot('2-final')}`);
      }
    } catch (e) {
      const screenshot = shot('failure');
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
      failed = { reasons: [e instanceof Failure ? e.message : e.stack ?? String(e)], screenshot };
    }
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
    // Shut down the kernel session this run started, so the next run starts afresh.
    try {
      for (const s of await api(server, 'GET', 'api/sessions')) {
        if (!sessionsBefore.has(s.id) && s.path === opts.notebook) {
          await api(server, 'DELETE', `api/sessions/${s.id}`);
        }
      }
    } catch (e) {
      log(`could not shut the session down: ${e.message}`);
    }
  }
  if (pageErrors.length) log(`page errors (not failures): ${pageErrors.slice(0, 5).join(' | ')}`);
  if (failed) {
    console.error(`FAIL ${opts.notebook}:`);
    for (const r of failed.reasons) console.error(`  - ${r}`);
    console.error(`screenshot: ${failed.screenshot}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack ?? e}`);
  process.exit(1);
});
