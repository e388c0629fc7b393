/**
 * The SQLite repositories' access to the connection: prepared statements cached by their text,
 * and `SqliteExec`, which runs a synchronous piece of work at the moment the store allows
 * (after the store's lock, or inside the caller's transaction) and answers with a promise.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../db.js';

export class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Db) {}

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<R>(sql: string, ...args: unknown[]): R | undefined {
    return this.stmt(sql).get(...args) as R | undefined;
  }

  all<R>(sql: string, ...args: unknown[]): R[] {
    return this.stmt(sql).all(...args) as R[];
  }

  run(sql: string, ...args: unknown[]): Database.RunResult {
    return this.stmt(sql).run(...args);
  }
}

export type SqliteExec = <T>(work: (q: Statements) => T) => Promise<T>;
