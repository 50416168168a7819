import { html } from 'htm/preact';
import { api, usePoll } from '../api.js';
import { Badge, ErrorNote, Labels, Time, duration } from '../format.js';
import { Section } from '../value.js';
import { Refs } from './components.js';

function ScrapeTargets({ targets }) {
  return html`<section>
    <h2>Targets</h2>
    ${!targets.length ? html`<p class="muted">None</p>` : html`<table class="grid" data-testid="scrape-targets">
      <thead><tr><th>Labels</th><th>Health</th><th>Last scrape</th><th>Duration</th><th>Last error</th><th>Series</th></tr></thead>
      <tbody>${targets.map((t) => html`<tr>
        <td><${Labels} labels=${t.labels} />${t.url && html`<div class="muted small">${t.url}</div>`}</td>
        <td><${Badge} state=${t.health} /></td>
        <td><${Time} value=${t.last_scrape} /></td>
        <td>${duration(t.last_scrape_duration)}</td>
        <td class="wrap error-text">${t.last_error}</td>
        <td class="num">${t.series}</td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}

export function ComponentPage({ id }) {
  const { data: c, error } = usePoll((signal) => api(`components/${encodeURIComponent(id)}`, signal), id);
  const notFound = error?.status === 404;

  // Scrape targets get a dedicated table; the rest of debugInfo renders generically.
  const scrape = c?.name === 'prometheus.scrape' && Array.isArray(c.debugInfo?.target);
  let debug = c?.debugInfo;
  if (scrape) {
    const { target, ...rest } = debug;
    debug = Object.keys(rest).length ? rest : null;
  }

  return html`<div class="page" data-testid="component-detail" data-id=${id}>
    <h1>${id}</h1>
    ${notFound ? html`<p class="error">Component not found</p>` : html`<${ErrorNote} error=${error} />`}
    ${!c && !error && html`<p class="muted">Loading…</p>`}
    ${c && !notFound && html`
      <table class="info">
        <tbody>
          <tr><th>Health</th><td><${Badge} state=${c.health?.state} testid="component-health" /></td></tr>
          <tr><th>Message</th><td class="wrap">${c.health?.message || html`<span class="muted">none</span>`}</td></tr>
          <tr><th>Updated</th><td><${Time} value=${c.health?.updatedTime} /></td></tr>
          ${c.moduleID && html`<tr><th>Module</th><td>${c.moduleID}</td></tr>`}
          <tr><th>References</th><td><${Refs} ids=${c.referencesTo} /></td></tr>
          <tr><th>Referenced by</th><td><${Refs} ids=${c.referencedBy} /></td></tr>
        </tbody>
      </table>
      <${Section} title="Arguments" value=${c.arguments} />
      <${Section} title="Exports" value=${c.exports} />
      ${scrape && html`<${ScrapeTargets} targets=${c.debugInfo.target} />`}
      ${(!scrape || debug) && html`<${Section} title="Debug info" value=${debug} />`}
    `}
  </div>`;
}
