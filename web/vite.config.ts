// Vite config: React, a deterministic production build (ragd embeds web/dist),
// and a dev proxy so `npm run dev` talks to a local ragd (RAGD_URL, default :8000).
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const ragd = process.env.RAGD_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One JS and one CSS file keep the embedded bundle small and simple to serve.
    assetsInlineLimit: 4096,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': { target: ragd, ws: true, changeOrigin: true },
    },
  },
})
