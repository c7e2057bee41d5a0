import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The client and protocol packages are read from their TypeScript sources (the `source`
// condition), so the portal builds without building them first.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['source'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
