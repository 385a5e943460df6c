/**
 * One build for both deployments: which backend to talk to is read at run time from
 * `config.json` (see `src/config/runtime-config.ts`), never baked in here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { buildEmojiTable, type EmojiDatasourceRow } from './src/emoji/emoji-table.ts';

const VIRTUAL_ID = 'virtual:emoji-table';
const RESOLVED_ID = `\0${VIRTUAL_ID}`;

/**
 * Serves `virtual:emoji-table`: the short-name -> glyph table derived from emoji-datasource at
 * build time, so the bundle never contains the package's 1.3 MB JSON.
 */
function emojiTable(): Plugin {
  const require = createRequire(import.meta.url);
  const dataPath = require.resolve('emoji-datasource/emoji.json');
  return {
    name: 'reactometer:emoji-table',
    resolveId: (id) => (id === VIRTUAL_ID ? RESOLVED_ID : null),
    load(id) {
      if (id !== RESOLVED_ID) return null;
      this.addWatchFile(dataPath);
      const rows = JSON.parse(readFileSync(dataPath, 'utf8')) as EmojiDatasourceRow[];
      return `export default ${JSON.stringify(buildEmojiTable(rows))};`;
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the same build works from any path (a bucket prefix, a sub-folder).
  base: './',
  plugins: [react(), emojiTable()],
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
  build: {
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Separate chunks for what changes rarely (React, zod, the emoji table), so that a new
        // release of the dashboard's own code re-downloads only its own chunk.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'zod', test: /node_modules[\\/]zod[\\/]/ },
            { name: 'emoji-table', test: /virtual:emoji-table/ },
          ],
        },
      },
    },
  },
});
