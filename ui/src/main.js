import { html } from 'htm/preact';
import { render, Component } from 'preact';
import { useEffect } from 'preact/hooks';
import { useRoute } from './router.js';
import { ComponentsPage } from './pages/components.js';
import { ComponentPage } from './pages/component.js';
import { GraphPage } from './pages/graph.js';
import { ClusteringPage } from './pages/clustering.js';
import { TargetsPage } from './pages/targets.js';
import './style.css';

const NAV = [
  ['', 'Components'],
  ['graph', 'Graph'],
  ['clustering', 'Clustering'],
  ['targets', 'Targets'],
];

function route(path) {
  if (path === '') return { title: 'Components', page: html`<${ComponentsPage} />` };
  if (path === 'graph') return { title: 'Graph', page: html`<${GraphPage} />` };
  if (path === 'clustering') return { title: 'Clustering', page: html`<${ClusteringPage} />` };
  if (path === 'targets') return { title: 'Targets', page: html`<${TargetsPage} />` };
  const m = path.match(/^component\/([^/]+)$/);
  if (m) {
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch {} // keep the raw text if it isn't valid percent-encoding
    return { title: id, page: html`<${ComponentPage} key=${id} id=${id} />` };
  }
  return { title: 'Not found', page: html`<div class="page"><h1>Page not found</h1><p><a href="./">Back to components</a></p></div>` };
}

// A rendering bug on one page shouldn't blank the whole UI.
class Boundary extends Component {
  state = { error: null };
  componentDidCatch(error) {
    this.setState({ error });
  }
  render({ children }, { error }) {
    return error ? html`<div class="page"><p class="error">Failed to render: ${String(error.message || error)}</p></div>` : children;
  }
}

function App() {
  const path = useRoute();
  const { title, page } = route(path);
  const section = path.split('/')[0] === 'component' ? '' : path;
  useEffect(() => {
    document.title = `${title} - Starling`;
  }, [title]);

  return html`
    <header>
      <a class="brand" href="./">Starling</a>
      <nav>
        ${NAV.map(([p, text]) => html`<a href=${p || './'} aria-current=${section === p ? 'page' : undefined}>${text}</a>`)}
      </nav>
    </header>
    <main><${Boundary} key=${path}>${page}<//></main>
  `;
}

render(html`<${App} />`, document.getElementById('app'));
