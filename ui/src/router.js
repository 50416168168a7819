import { useEffect, useState } from 'preact/hooks';
import { basePath } from './api.js';

const listeners = new Set();
const notify = () => listeners.forEach((fn) => fn(currentPath()));

// Path relative to the base, without a trailing slash: '', 'graph', 'component/<id>', ...
export function currentPath() {
  const p = location.pathname;
  const rel = p.startsWith(basePath) ? p.slice(basePath.length) : '';
  return rel.replace(/\/+$/, '');
}

export function navigate(url) {
  history.pushState(null, '', url);
  window.scrollTo(0, 0);
  notify();
}

export function useRoute() {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    listeners.add(setPath);
    return () => listeners.delete(setPath);
  }, []);
  return path;
}

export const componentHref = (id) => `component/${encodeURIComponent(id)}`;

addEventListener('popstate', notify);

// Plain <a href> links everywhere; in-app ones are turned into pushState navigation here.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.('a');
  if (!a || a.getAttribute('target') || a.hasAttribute('download')) return;
  const href = a.getAttribute('href'); // SVG <a> has no string .href
  if (href == null) return;
  const url = new URL(href, document.baseURI);
  if (url.origin !== location.origin || !url.pathname.startsWith(basePath)) return;
  e.preventDefault();
  navigate(url);
});
