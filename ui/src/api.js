import { useEffect, useState } from 'preact/hooks';

// The server rewrites <base href>, so every URL is derived from it rather than from "/".
export const base = new URL('.', document.baseURI);
export const basePath = base.pathname;

export class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function getJSON(url, signal) {
  const res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).trim();
    throw new HTTPError(res.status, `${res.status} ${res.statusText}${body ? `: ${body}` : ''}`);
  }
  return res.json();
}

export const api = (path, signal) => getJSON(new URL(`api/v0/web/${path}`, base), signal);

export const POLL_MS = 5000;

// Polls load(signal) every POLL_MS while mounted. Data survives failed refreshes so the page
// doesn't flicker; a change of key starts over with no data.
export function usePoll(load, key = '') {
  const [state, setState] = useState({ key, data: undefined, error: null });
  useEffect(() => {
    const ctrl = new AbortController();
    let timer;
    const tick = async () => {
      try {
        const data = await load(ctrl.signal);
        if (!ctrl.signal.aborted) setState({ key, data, error: null });
      } catch (error) {
        if (ctrl.signal.aborted) return;
        setState((s) => ({ key, data: s.key === key ? s.data : undefined, error }));
      }
      if (!ctrl.signal.aborted) timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [key]);
  return state.key === key ? state : { key, data: undefined, error: null };
}
