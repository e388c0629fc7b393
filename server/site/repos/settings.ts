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
}
