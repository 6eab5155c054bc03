#!/usr/bin/env node
// Runs the compiled CLI (`npm run build`, done by `npm start`'s prestart).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('qingjian: dist/cli.js is missing; run `npm run build` first');
  process.exit(1);
}
await import(cli);
