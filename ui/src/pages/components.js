import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, usePoll } from '../api.js';
import { componentHref } from '../router.js';
import { Badge, ErrorNote, Time } from '../format.js';

export const Refs = ({ ids }) =>
  ids?.length
    ? html`<span class="refs">${ids.map((id) => html`<a href=${componentHref(id)}>${id}</a>`)}</span>`
    : html`<span class="muted">none</span>`;

export function ComponentsPage() {
  const { data, error } = usePoll((signal) => api('components', signal));
  const [filter, setFilter] = useState('');
  const q = filter.trim().toLowerCase();
  const rows = (data || []).filter((c) => c.localID.toLowerCase().includes(q));

  return html`<div class="page">
    <div class="toolbar">
      <h1>Components</h1>
      <input type="search" placeholder="Filter by ID" value=${filter} data-testid="components-filter"
        onInput=${(e) => setFilter(e.currentTarget.value)} />
      ${data && html`<span class="muted">${rows.length} of ${data.length}</span>`}
    </div>
    <${ErrorNote} error=${error} />
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data && html`<table class="grid" data-testid="components-table">
      <thead><tr><th>ID</th><th>Health</th><th>Message</th><th>Last update</th><th>References</th><th>Referenced by</th></tr></thead>
      <tbody>
        ${rows.map((c) => html`<tr key=${c.localID} data-testid="component-row" data-id=${c.localID}>
          <td><a href=${componentHref(c.localID)}>${c.localID}</a></td>
          <td><${Badge} state=${c.health?.state} /></td>
          <td class="wrap">${c.health?.message}</td>
          <td><${Time} value=${c.health?.updatedTime} /></td>
          <td><${Refs} ids=${c.referencesTo} /></td>
          <td><${Refs} ids=${c.referencedBy} /></td>
        </tr>`)}
        ${!rows.length && html`<tr><td colspan="6" class="muted">No components${q ? ' match the filter' : ''}.</td></tr>`}
      </tbody>
    </table>`}
  </div>`;
}
