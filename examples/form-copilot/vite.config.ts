// Vite for the form copilot. `npm run build:app` writes dist/, which the service serves at `/`;
// `npm run dev` runs this dev server (hot reload) beside the service and forwards the API to it.
// The proxy keeps the browser's Host, so the service's same-origin check (CSRF) accepts the page.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const service = process.env['AI_THREADS_URL'] ?? `http://localhost:${process.env['PORT'] ?? '3000'}`;

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/trpc': { target: service, changeOrigin: false },
      '/api': { target: service, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The service's CSP allows no inline script: keep every asset a file.
    assetsInlineLimit: 0,
  },
});
