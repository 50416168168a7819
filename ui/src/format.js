import { html } from 'htm/preact';

// Go's zero time means "never happened".
const isZero = (d) => !d || d.getUTCFullYear() <= 1;

export function parseTime(s) {
  if (!s) return null;
  const d = new Date(s);
  return isNaN(d) || isZero(d) ? null : d;
}

export function ago(d, now = Date.now()) {
  const s = Math.round((now - d.getTime()) / 1000);
  if (Math.abs(s) < 2) return 'just now';
  if (s < 0) return `in ${-s}s`;
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function Time({ value }) {
  const d = parseTime(value);
  if (!d) return html`<span class="muted">never</span>`;
  return html`<time datetime=${d.toISOString()} title=${d.toLocaleString()}>${ago(d)}</time>`;
}

// Durations arrive as Go strings ("1.79672ms"); trim the noise digits.
export const duration = (s) => (s ? String(s).replace(/(\.\d{2})\d+/, '$1') : '');

const colour = { healthy: 'ok', up: 'ok', unhealthy: 'bad', down: 'bad', unknown: 'unknown' };
// Anything unexpected (exited, ...) is amber: not known-good, not known-bad.
export const healthClass = (state) => colour[state || 'unknown'] || 'warn';

export function Badge({ state, testid }) {
  return html`<span class="badge ${healthClass(state)}" data-testid=${testid}>${state || 'unknown'}</span>`;
}

export function ErrorNote({ error, what = 'load' }) {
  return error ? html`<p class="error">Failed to ${what}: ${error.message || String(error)}</p>` : null;
}

export function Labels({ labels, hide }) {
  const entries = Object.entries(labels || {}).filter(([k]) => !hide || !hide(k));
  return html`<span class="labels">
    ${entries.map(([k, v]) => html`<span class="label"><b>${k}</b>=${v}</span>`)}
  </span>`;
}
