/** Generated at build time by the `emojiTable` plugin in `web/vite.config.ts`. */
declare module 'virtual:emoji-table' {
  // An ambient module cannot `import type` by a relative path; an import() type can.
  // eslint-disable-next-line @typescript-eslint/consistent-type-imports
  const table: import('./emoji-table.js').EmojiTable;
  export default table;
}
