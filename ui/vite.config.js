import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the server rewrites <base href> when the UI lives under a prefix.
  base: './',
  build: {
    // One module chunk, so the preload polyfill is dead weight.
    modulePreload: { polyfill: false },
    // Asset names keep Vite's content hash: the agent serves assets/ as immutable.
  },
});
