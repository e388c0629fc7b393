/**
 * Named settings rows (the `site` settings, the PXE password's hash): each a JSON value the
 * site validates; the repository only keeps it. Rows older versions wrote as plain text (the
 * PXE password hash) read back as that string.
 */
export interface SettingsRepo {
  /** The stored value, or undefined when the row does not exist. */
  get(name: string): Promise<unknown>;
  /** Inserts or replaces the row. `value` must be JSON-serialisable. */
  put(name: string, value: unknown): Promise<void>;
  /** Removes the row; true when there was one. */
  delete(name: string): Promise<boolean>;
  /**
   * Inserts the row only when there is none, and returns the value stored then: `value`, or the
   * one already there. Two writers at once (two processes, two nodes) get the same answer, so a
   * key made on first use is made once.
   */
  putIfAbsent(name: string, value: unknown): Promise<unknown>;
}
