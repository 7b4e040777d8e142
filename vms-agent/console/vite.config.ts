// The console's build: plain TypeScript and CSS, no framework, everything
// bundled into console/dist (served by vms-agent at /console/, same origin
// as the API; no CDN, no external font).
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle; no inline scripts (the page's CSP allows scripts from 'self' only).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
