import { html } from 'htm/preact';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Arrays of objects read best as a table when the objects share a modest set of keys.
function tableKeys(arr) {
  if (!arr.length || !arr.every(isObject)) return null;
  const keys = [...new Set(arr.flatMap(Object.keys))];
  return keys.length && keys.length <= 10 ? keys : null;
}

// Renders a River value (as JSON) as nested tables and lists.
export function Value({ value }) {
  if (value === null || value === undefined) return html`<span class="v-null">null</span>`;
  switch (typeof value) {
    case 'string':
      return value === '(secret)' || value === '(capsule)'
        ? html`<span class="v-opaque">${value}</span>`
        : html`<span class="v-string">${value}</span>`;
    case 'number':
    case 'boolean':
      return html`<span class="v-${typeof value}">${String(value)}</span>`;
  }
  if (Array.isArray(value)) {
    if (!value.length) return html`<span class="v-empty">[]</span>`;
    const keys = tableKeys(value);
    if (keys)
      return html`<table class="v-table">
        <thead><tr>${keys.map((k) => html`<th>${k}</th>`)}</tr></thead>
        <tbody>
          ${value.map((row) => html`<tr>${keys.map((k) => html`<td>${k in row ? html`<${Value} value=${row[k]} />` : ''}</td>`)}</tr>`)}
        </tbody>
      </table>`;
    return html`<ol class="v-list">${value.map((v) => html`<li><${Value} value=${v} /></li>`)}</ol>`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return html`<span class="v-empty">{}</span>`;
  return html`<table class="v-object">
    <tbody>${entries.map(([k, v]) => html`<tr><th>${k}</th><td><${Value} value=${v} /></td></tr>`)}</tbody>
  </table>`;
}

export function Section({ title, value }) {
  const empty = value == null || (typeof value === 'object' && !Object.keys(value).length);
  return html`<section>
    <h2>${title}</h2>
    ${empty ? html`<p class="muted">None</p>` : html`<${Value} value=${value} />`}
  </section>`;
}
