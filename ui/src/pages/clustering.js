import { html } from 'htm/preact';
import { api, basePath, usePoll } from '../api.js';
import { ErrorNote, Time } from '../format.js';

// Peers serve the same UI under the same prefix, with the scheme of this page.
export const peerURL = (addr, path = '') => `${location.protocol}//${addr}${basePath}${path}`;

export function ClusteringPage() {
  const { data, error } = usePoll((signal) => api('peers', signal));
  const peers = [...(data || [])].sort((a, b) => a.name.localeCompare(b.name));

  return html`<div class="page">
    <h1>List of clustering peers</h1>
    <${ErrorNote} error=${error} />
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data && html`<table class="grid" data-testid="peers-table">
      <thead><tr><th>Node Name</th><th>Advertised Address</th><th>Current State</th><th>Local Node</th><th>Targets</th><th>Last Heard</th><th>UI</th></tr></thead>
      <tbody>
        ${peers.map((p) => html`<tr key=${p.name} data-testid="peer-row" data-name=${p.name} data-self=${String(!!p.isSelf)}>
          <td>${p.name}</td>
          <td>${p.addr}</td>
          <td data-testid="peer-state" title=${p.liveness ? `liveness: ${p.liveness}` : ''}>${p.state}</td>
          <td>${p.isSelf && html`<span class="badge self">Self</span>`}</td>
          <td class="num">${p.targets}</td>
          <td><${Time} value=${p.lastHeard} /></td>
          <td><a href=${peerURL(p.addr)}>Open UI</a></td>
        </tr>`)}
        ${!peers.length && html`<tr><td colspan="7" class="muted">No peers.</td></tr>`}
      </tbody>
    </table>`}
  </div>`;
}
