/**
 * A second process allocating ids on a SQLite file (the contract suite starts two): it says
 * `ready`, waits for a line on stdin so both start together, allocates, and prints the numbers
 * as JSON. Run with `node --import tsx id-worker.ts FILE COUNT`.
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../../../../server/store/db.js';
import { SqliteSiteStore } from '../../../../server/store/sqlite/store.js';
import { claimToken } from './ids.js';

const [file, count] = process.argv.slice(2);
if (!file || !count) throw new Error('usage: id-worker.ts FILE COUNT');
const store = new SqliteSiteStore(openDatabase(file), { ownsDb: true });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
const got: string[] = [];
for (let i = 0; i < Number(count); i++) got.push(await claimToken(store, i));
await store.close();
process.stdout.write(`${JSON.stringify(got)}\n`);
process.exit(0);
