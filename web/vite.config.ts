import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.BAZAAR_API ?? 'http://127.0.0.1:3000';

// Two apps, one build: the storefront at / and the admin portal at /admin. Each HTML file is its own
// entry, so the admin code never lands in the storefront's bundle; they share React and web/shared.
export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  plugins: [
    react(),
    {
      // Dev server only: a reload on /admin/products must get the admin app, not the storefront
      // (in production the API process does this fallback, see src/kernel/http/web.ts).
      name: 'admin-spa-fallback',
      configureServer(server) {
        server.middlewares.use((req, _res, next) => {
          if (req.url && /^\/admin(\/[^.?]*)?(\?.*)?$/.test(req.url) && req.headers.accept?.includes('text/html')) req.url = '/admin/index.html';
          next();
        });
      },
    },
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { shop: `${root}index.html`, admin: `${root}admin/index.html` },
      // Libraries in chunks of their own: both apps share them, and they change far less often than
      // app code, so a deploy does not make returning visitors download React again.
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router|cookie|set-cookie-parser)[\\/]/ },
            { name: 'query', test: /node_modules[\\/]@tanstack[\\/]/ },
            { name: 'shared', test: /[\\/]web[\\/]shared[\\/]|[\\/]src[\\/]kernel[\\/]/ },
          ],
        },
      },
    },
  },
  // `npx vite web` for live reload while a `npm start` on :3000 answers the API.
  server: {
    proxy: Object.fromEntries(['/api', '/media', '/openapi.json', '/docs'].map((p) => [p, api])),
  },
});
