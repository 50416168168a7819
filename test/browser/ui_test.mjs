// The web UI in headless Chromium against a three-node cluster of real starling processes.
//
// The test starts a fixture server with TARGETS scrape targets, and three agents that share
// them (clustering on) and serve their UI under PREFIX. Each agent scrapes with its node name
// as bearer token, so the fixture server knows which node really scrapes each target. One more
// target, at a closed port, is always down.
//
// Environment (set by CTest): STARLING_BIN (the binary), STARLING_UI_APP (the UI's npm build
// tree, which has playwright-core), STARLING_SCREENSHOTS (where page screenshots go).
// CHROMIUM overrides the browser (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';

const BIN = requiredEnv('STARLING_BIN');
const SCREENSHOTS = requiredEnv('STARLING_SCREENSHOTS');
const { chromium } = createRequire(path.join(requiredEnv('STARLING_UI_APP'), 'package.json'))(
  'playwright-core',
);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const PREFIX = '/starling/';
const TARGETS = 12;
const NODES = ['node-1', 'node-2', 'node-3'];
// Convergence is polled for, never assumed; these are upper bounds, not expectations.
const DEADLINE_MS = 60_000;

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this test through ctest)`);
  return v;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn until it returns without throwing; rethrows its last error after the deadline.
async function eventually(fn, what, deadlineMs = DEADLINE_MS) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) {
        e.message = `${what}: not within ${deadlineMs} ms: ${e.message}`;
        throw e;
      }
      await sleep(250);
    }
  }
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function getJson(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return res.json();
}

// Serves every target's metrics and records which node scraped each path last.
function startFixture() {
  const lastScrape = new Map();
  const server = http.createServer((req, res) => {
    const urlPath = req.url.split('?')[0];
    const node = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    lastScrape.set(urlPath, { node, at: Date.now() });
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE fixture_up gauge\nfixture_up{path="${urlPath}"} 1\n`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, lastScrape, port: server.address().port })),
  );
}

function config(fixturePort, closedPort) {
  const targets = [];
  for (let i = 0; i < TARGETS; i++) {
    targets.push(
      `{"__address__" = "127.0.0.1:${fixturePort}", "__metrics_path__" = "/t/${i}", "shard" = "s${i % 3}"}`,
    );
  }
  targets.push(`{"__address__" = "127.0.0.1:${closedPort}", "__metrics_path__" = "/down"}`);
  return `
discovery.relabel "fixture" {
  targets = [
    ${targets.join(',\n    ')},
  ]

  rule {
    source_labels = ["shard"]
    target_label  = "group"
  }
}

prometheus.scrape "fixture" {
  targets         = discovery.relabel.fixture.output
  scrape_interval = "1s"
  scrape_timeout  = "1s"
  bearer_token    = sys.env("STARLING_NODE")
  forward_to      = [prometheus.relabel.fixture.receiver]

  clustering {
    enabled = true
  }
}

prometheus.relabel "fixture" {
  forward_to = []

  rule {
    source_labels = ["__name__"]
    regex         = "scrape_.*"
    action        = "drop"
  }
}
`;
}

class Agent {
  constructor(name, port, dir) {
    this.name = name;
    this.port = port;
    this.logPath = path.join(dir, `${name}.log`);
    this.base = `http://127.0.0.1:${port}${PREFIX}`;
  }

  start(configPath, joinPort, dir) {
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(
      BIN,
      [
        'run',
        `--server.http.listen-addr=127.0.0.1:${this.port}`,
        `--server.http.ui-path-prefix=${PREFIX}`,
        `--storage.path=${path.join(dir, this.name)}`,
        '--cluster.enabled',
        `--cluster.node-name=${this.name}`,
        `--cluster.advertise-address=127.0.0.1:${this.port}`,
        `--cluster.join-addresses=127.0.0.1:${joinPort}`,
        configPath,
      ],
      { env: { ...process.env, STARLING_NODE: this.name }, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
  }

  kill(signal) {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill(signal);
    }
  }
}

describe('web UI on a three-node cluster', () => {
  let dir;
  let fixture;
  let agents = [];
  let browser;
  let page;
  let pageErrors = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starling-ui-test-'));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fixture = await startFixture();
    const configPath = path.join(dir, 'config.river');
    fs.writeFileSync(configPath, config(fixture.port, await freePort()));
    for (const name of NODES) agents.push(new Agent(name, await freePort(), dir));
    for (const a of agents) a.start(configPath, agents[0].port, dir);

    await eventually(async () => {
      for (const a of agents) {
        const peers = await getJson(`${a.base}api/v0/web/peers`);
        assert.deepEqual(peers.map((p) => `${p.name}:${p.state}`).sort(),
          NODES.map((n) => `${n}:participant`));
      }
    }, 'the three nodes form a cluster');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    for (const a of agents) a.kill('SIGKILL');
    fixture?.server.close();
    // CTest shows this only when the test fails.
    if (dir) {
      for (const a of agents) {
        const log = fs.existsSync(a.logPath) ? fs.readFileSync(a.logPath, 'utf8') : '';
        console.log(`--- ${a.name} log (last 3000 bytes)\n${log.slice(-3000)}`);
      }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Opens a page of node-1's UI, waits for `selector`, and checks that nothing went wrong.
  async function open(route, selector, screenshot) {
    pageErrors = [];
    const res = await page.goto(agents[0].base + route);
    assert.equal(res.status(), 200, `GET ${route}`);
    await page.locator(selector).first().waitFor({ timeout: DEADLINE_MS });
    // Let at least one refresh happen before judging the console.
    await sleep(1000);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshot}.png`), fullPage: true });
    assert.deepEqual(pageErrors, [], `errors on ${route || 'the components page'}`);
  }

  it('lists the components and filters them by name', async () => {
    await open('', '[data-testid="component-row"]', 'components');
    const ids = await page.locator('[data-testid="component-row"]').evaluateAll((rows) =>
      rows.map((r) => r.dataset.id).sort(),
    );
    assert.deepEqual(ids, ['discovery.relabel.fixture', 'prometheus.relabel.fixture',
      'prometheus.scrape.fixture']);
    await page.locator('[data-testid="components-filter"]').fill('SCRAPE');
    await eventually(async () => {
      const shown = await page.locator('[data-testid="component-row"]').evaluateAll((rows) =>
        rows.map((r) => r.dataset.id));
      assert.deepEqual(shown, ['prometheus.scrape.fixture']);
    }, 'the filter applies', 10_000);
    assert.equal(await page.title(), 'Components - Starling');
  });

  it('shows a component with its health, arguments and targets', async () => {
    await open('component/prometheus.scrape.fixture', '[data-testid="component-detail"]',
      'component');
    const detail = page.locator('[data-testid="component-detail"]');
    assert.equal(await detail.getAttribute('data-id'), 'prometheus.scrape.fixture');
    assert.equal((await page.locator('[data-testid="component-health"]').innerText()).trim(),
      'healthy');
    // The arguments show the scrape interval, and the targets scraped here show up.
    await eventually(async () => {
      const text = await detail.innerText();
      assert.match(text, /scrape_interval/);
      assert.match(text, /\/t\/\d+/);
    }, 'the detail page shows arguments and targets', 20_000);
  });

  it('says so for an unknown component', async () => {
    pageErrors = [];
    await page.goto(`${agents[0].base}component/prometheus.scrape.nope`);
    await page.getByText('Component not found').waitFor({ timeout: DEADLINE_MS });
  });

  it('draws the graph and opens a component on click', async () => {
    await open('graph', '[data-testid="graph-node"]', 'graph');
    const ids = await page.locator('[data-testid="graph-node"]').evaluateAll((nodes) =>
      nodes.map((n) => n.dataset.id).sort(),
    );
    assert.equal(ids.length, 3);
    await page.locator('[data-testid="graph-node"][data-id="prometheus.relabel.fixture"]').click();
    await page.waitForURL(`${agents[0].base}component/prometheus.relabel.fixture`);
    await page.locator('[data-testid="component-detail"][data-id="prometheus.relabel.fixture"]')
      .waitFor();
  });

  it('lists the three clustering peers, this node marked local', async () => {
    await open('clustering', '[data-testid="peer-row"]', 'clustering');
    assert.ok(await page.getByText('List of clustering peers').isVisible());
    const rows = await eventually(async () => {
      const r = await page.locator('[data-testid="peer-row"]').evaluateAll((trs) =>
        trs.map((tr) => ({
          name: tr.dataset.name,
          self: tr.dataset.self,
          state: tr.querySelector('[data-testid="peer-state"]').textContent.trim(),
          links: [...tr.querySelectorAll('a')].map((a) => a.href),
        })),
      );
      assert.equal(r.length, 3);
      return r;
    }, 'three peers listed');
    assert.deepEqual(rows.map((r) => r.name), NODES);
    assert.deepEqual(rows.map((r) => r.self), ['true', 'false', 'false']);
    assert.deepEqual(rows.map((r) => r.state), ['participant', 'participant', 'participant']);
    for (const [i, r] of rows.entries()) {
      assert.ok(r.links.includes(agents[i].base), `${r.name} links to ${agents[i].base}: ${r.links}`);
    }
    // A peer's own UI marks itself as the local node.
    await page.goto(agents[1].base + 'clustering');
    await page.locator('[data-testid="peer-row"][data-self="true"][data-name="node-2"]').waitFor();
  });

  it("names each target's owner: the node that really scrapes it", async () => {
    await open('targets', '[data-testid="target-row"]', 'targets');
    await eventually(async () => {
      const rows = await page.locator('[data-testid="target-row"]').evaluateAll((trs) =>
        trs.map((tr) => ({
          labels: JSON.parse(tr.dataset.labels),
          owner: tr.dataset.owner,
          ownerText: tr.querySelector('[data-testid="target-owner"]').textContent.trim(),
          state: tr.querySelector('[data-testid="target-state"]').textContent.trim(),
        })),
      );
      assert.equal(rows.length, TARGETS + 1);
      const now = Date.now();
      const owners = new Set();
      for (const r of rows) {
        if (r.labels.__metrics_path__ === '/down') {
          assert.equal(r.state, 'down', 'the target at a closed port');
          continue;
        }
        const seen = fixture.lastScrape.get(r.labels.__metrics_path__);
        assert.ok(seen && now - seen.at < 5000, `${r.labels.__metrics_path__} is being scraped`);
        assert.equal(r.owner, seen.node, `owner of ${r.labels.__metrics_path__}`);
        assert.ok(r.ownerText.startsWith(r.owner), r.ownerText);
        assert.equal(r.state, 'up', `state of ${r.labels.__metrics_path__} (owned by ${r.owner})`);
        owners.add(r.owner);
      }
      // With 12 targets each of the three nodes owns some (rendezvous hashing, fixed labels).
      assert.ok(owners.size >= 2, `owners: ${[...owners]}`);
    }, 'the UI owners match the scrapers');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'targets.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);

    // The search narrows the table down by label, or by the text of the last error.
    for (const [search, want] of [['__metrics_path__=/t/7', ['/t/7']], ['connect', ['/down']]]) {
      await page.locator('[data-testid="targets-search"]').fill(search);
      await eventually(async () => {
        const shown = await page.locator('[data-testid="target-row"]').evaluateAll((trs) =>
          trs.map((tr) => JSON.parse(tr.dataset.labels).__metrics_path__));
        assert.deepEqual(shown, want);
      }, `the search for ${search} applies`, 10_000);
    }
  });

  it('shows a killed node leave the peer list without a reload', async () => {
    await open('clustering', '[data-testid="peer-row"]', 'clustering');
    agents[2].kill('SIGKILL');
    await eventually(async () => {
      const names = await page.locator('[data-testid="peer-row"]').evaluateAll((trs) =>
        trs.map((tr) => tr.dataset.name));
      assert.deepEqual(names, ['node-1', 'node-2']);
    }, 'node-3 leaves the list');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'clustering-after-kill.png'),
      fullPage: true });
  });
});
