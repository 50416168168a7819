import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { Graph, layout } from '@dagrejs/dagre';
import { api, usePoll } from '../api.js';
import { componentHref } from '../router.js';
import { ErrorNote, healthClass } from '../format.js';

const CHAR_W = 7.5; // rough width of a 12px character; good enough to size boxes
const NODE_H = 40;

// Layout depends only on the structure, so it is recomputed only when that changes;
// health colours update on every poll without moving anything.
function computeLayout(components) {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 20, ranksep: 60, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const c of components) {
    const w = Math.max(c.name.length, (c.label || '').length) * CHAR_W + 24;
    g.setNode(c.localID, { width: Math.max(w, 100), height: NODE_H });
  }
  // Data flows from the referenced component to the one referencing it.
  for (const c of components)
    for (const ref of c.referencesTo || []) if (g.hasNode(ref)) g.setEdge(ref, c.localID);
  layout(g);
  return {
    width: g.graph().width,
    height: g.graph().height,
    nodes: g.nodes().map((id) => ({ id, ...g.node(id) })),
    edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: g.edge(e).points })),
  };
}

const pathOf = (pts) => pts.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');

export function GraphPage() {
  const { data, error } = usePoll((signal) => api('components', signal));
  const shape = JSON.stringify((data || []).map((c) => [c.localID, c.name, c.label, c.referencesTo]));
  const g = useMemo(() => (data ? computeLayout(data) : null), [shape]);
  const byId = Object.fromEntries((data || []).map((c) => [c.localID, c]));

  return html`<div class="page">
    <h1>Graph</h1>
    <${ErrorNote} error=${error} />
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${g && !g.nodes.length && html`<p class="muted">No components.</p>`}
    ${g && g.nodes.length > 0 && html`<div class="graph-wrap">
      <svg data-testid="graph" width=${g.width} height=${g.height} viewBox="0 0 ${g.width} ${g.height}" role="img" aria-label="Component graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        ${g.edges.map((e) => html`<path key=${e.key} class="edge" d=${pathOf(e.points)} marker-end="url(#arrow)" />`)}
        ${g.nodes.map((n) => {
          const c = byId[n.id];
          const state = c?.health?.state || 'unknown';
          return html`<g key=${n.id} data-testid="graph-node" data-id=${n.id} class="node ${healthClass(state)}"
              transform="translate(${n.x - n.width / 2},${n.y - n.height / 2})">
            <a href=${componentHref(n.id)}>
              <title>${n.id} (${state})</title>
              <rect width=${n.width} height=${n.height} rx="4" />
              <text x=${n.width / 2} y="16" class="node-name">${c?.name}</text>
              <text x=${n.width / 2} y="31" class="node-label">${c?.label}</text>
            </a>
          </g>`;
        })}
      </svg>
    </div>`}
  </div>`;
}
