import { defineConfig } from 'vite';

/**
 * The control panel's build: web/ -> dist/web/ (served by the api role at `/`, src/api/panel.ts).
 * Preact's JSX through esbuild (no plugin); no inline script or style anywhere, because the
 * panel's Content-Security-Policy allows only files from its own origin.
 */
const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: `${root}../dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill is an inline-free script, but every supported browser has modulepreload.
    modulePreload: { polyfill: false },
    // Small files are files too: a data: URL would need a wider CSP than img-src data:.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
