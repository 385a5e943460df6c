// Stands in for the build's `virtual:emoji-table` module in Jest: the same builder over the same
// emoji-datasource file, so the tests see exactly the table the bundle ships.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildEmojiTable, type EmojiDatasourceRow } from '../../src/emoji/emoji-table.js';

const require = createRequire(import.meta.url);
const rows = JSON.parse(
  readFileSync(require.resolve('emoji-datasource/emoji.json'), 'utf8'),
) as EmojiDatasourceRow[];

const table = buildEmojiTable(rows);
export default table;
