import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, getJSON, usePoll } from '../api.js';
import { componentHref } from '../router.js';
import { Badge, ErrorNote, Labels, Time } from '../format.js';
import { peerURL } from './clustering.js';

const PEER_TIMEOUT_MS = 4000;
const ALL = '*'; // select value meaning "no filter"; never a node name or state

// Identifies a target across nodes: same component, same discovered labels (in any order).
const keyOf = (t) =>
  `${t.component}\n${JSON.stringify(Object.entries(t.labels || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;

const isMeta = (k) => k.startsWith('__meta_');

// Each node only knows the scrape state of the targets it owns, so ask the owners.
async function fetchPeerScrapes(peer, signal) {
  const url = peerURL(peer.addr, 'api/v0/web/targets');
  const list = await getJSON(url, AbortSignal.any([signal, AbortSignal.timeout(PEER_TIMEOUT_MS)]));
  return new Map(list.filter((t) => t.isSelf && t.scrape).map((t) => [keyOf(t), t.scrape]));
}

async function loadTargets(signal) {
  const [targets, peers] = await Promise.all([
    api('targets', signal),
    api('peers', signal).catch((e) => (signal.aborted ? Promise.reject(e) : [])),
  ]);
  const byName = new Map(peers.map((p) => [p.name, p]));
  const owners = [...new Set(targets.filter((t) => !t.isSelf && t.owner).map((t) => t.owner))];
  const remote = new Map(); // owner -> Map(key -> scrape) | {error}
  await Promise.all(
    owners.map(async (name) => {
      const peer = byName.get(name);
      if (!peer || peer.isSelf) return remote.set(name, { error: 'address unknown' });
      try {
        remote.set(name, await fetchPeerScrapes(peer, signal));
      } catch (e) {
        if (signal.aborted) throw e;
        remote.set(name, { error: e.message || String(e) });
      }
    }),
  );

  const unreachable = owners.filter((n) => remote.get(n).error).map((n) => ({ name: n, error: remote.get(n).error }));
  const rows = targets.map((t) => {
    const key = keyOf(t);
    let scrape = null;
    let note = '';
    if (!t.owner) note = 'cluster not ready; no owner yet';
    else if (t.isSelf) scrape = t.scrape || null;
    else {
      const r = remote.get(t.owner);
      if (r.error) note = `${t.owner} unreachable: ${r.error}`;
      else scrape = r.get(key) || null;
    }
    if (!scrape && !note) note = 'not scraped yet';
    const state = ['up', 'down'].includes(scrape?.health) ? scrape.health : 'unknown';
    return { t, key, scrape, note, state };
  });
  return { rows, peers, unreachable };
}

function matches(row, terms) {
  if (!terms.length) return true;
  const hay = [
    ...Object.entries(row.t.labels || {}).map(([k, v]) => `${k}=${v}`),
    row.t.component,
    row.t.owner,
    row.scrape?.lastError || '',
  ].map((s) => String(s).toLowerCase());
  return terms.every((term) => hay.some((s) => s.includes(term)));
}

export function TargetsPage() {
  const { data, error } = usePoll(loadTargets);
  const [search, setSearch] = useState('');
  const [owner, setOwner] = useState(ALL);
  const [state, setState] = useState(ALL);
  const [showMeta, setShowMeta] = useState(false);

  const all = data?.rows || [];
  const terms = search.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = all.filter(
    (r) => (owner === ALL || r.t.owner === owner) && (state === ALL || r.state === state) && matches(r, terms),
  );
  const ownerNames = [...new Set([...(data?.peers || []).map((p) => p.name), ...all.map((r) => r.t.owner)])].sort();

  return html`<div class="page">
    <div class="toolbar">
      <h1>Targets</h1>
      <input type="search" placeholder="Search labels, e.g. job=node" value=${search} data-testid="targets-search"
        onInput=${(e) => setSearch(e.currentTarget.value)} />
      <select value=${owner} onChange=${(e) => setOwner(e.currentTarget.value)} data-testid="targets-owner-filter" aria-label="Owner">
        <option value=${ALL}>All owners</option>
        ${ownerNames.map((n) => html`<option value=${n}>${n || '(none)'}</option>`)}
      </select>
      <select value=${state} onChange=${(e) => setState(e.currentTarget.value)} data-testid="targets-state-filter" aria-label="State">
        <option value=${ALL}>All states</option>
        <option value="up">up</option>
        <option value="down">down</option>
        <option value="unknown">unknown</option>
      </select>
      <label class="check"><input type="checkbox" checked=${showMeta} data-testid="targets-show-meta"
        onChange=${(e) => setShowMeta(e.currentTarget.checked)} /> Show __meta_* labels</label>
      ${data && html`<span class="muted">${rows.length} of ${all.length}</span>`}
    </div>
    <${ErrorNote} error=${error} />
    ${data?.unreachable.map((u) => html`<p class="warning">Could not reach ${u.name} (${u.error}); its targets show state unknown.</p>`)}
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data && html`<table class="grid" data-testid="targets-table">
      <thead><tr><th>Component</th><th>Labels</th><th>Owner</th><th>State</th><th>Last scrape</th><th>Last error</th></tr></thead>
      <tbody>
        ${rows.map(({ t, key, scrape, note, state }) => html`<tr key=${key} data-testid="target-row"
            data-component=${t.component} data-owner=${t.owner} data-labels=${JSON.stringify(t.labels)}>
          <td><a href=${componentHref(t.component)}>${t.component}</a></td>
          <td>
            <${Labels} labels=${t.labels} hide=${showMeta ? null : isMeta} />
            ${scrape?.url && html`<div class="muted small">${scrape.url}</div>`}
          </td>
          <td class="nowrap" data-testid="target-owner">${t.owner}${t.isSelf ? ' (self)' : ''}</td>
          <td data-testid="target-state"><${Badge} state=${state} /></td>
          <td>${scrape ? html`<${Time} value=${scrape.lastScrape} />` : ''}</td>
          <td class="wrap">
            ${scrape?.lastError && html`<span class="error-text">${scrape.lastError}</span>`}
            ${note && html`<span class="muted">${note}</span>`}
          </td>
        </tr>`)}
        ${!rows.length && html`<tr><td colspan="6" class="muted">${all.length ? 'No targets match the filters.' : 'No targets. Only components with clustering enabled list their targets here.'}</td></tr>`}
      </tbody>
    </table>`}
  </div>`;
}
