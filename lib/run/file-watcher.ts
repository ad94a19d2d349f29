/**
 * Watches a set of files and calls back once per burst of changes.
 *
 * Directories are watched rather than the files themselves: editors that
 * save by writing a new file and renaming it over the old one (vim, many
 * IDEs) replace the inode a file watch would follow, and it would go quiet.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** Editors write a file in several steps (truncate, write, chmod, rename): one reload for all of them. */
const SETTLE_MS = 80;

export class FileWatcher {
  readonly #onChange: (files: string[]) => void;
  /** Per watched directory: its watcher and the names in it that matter. */
  readonly #directories = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  readonly #changed = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(onChange: (files: string[]) => void) {
    this.#onChange = onChange;
  }

  /** Replaces the set of watched files. */
  watch(files: Iterable<string>): void {
    if (this.#closed) return;
    const wanted = new Map<string, Set<string>>();
    for (const file of files) {
      const dir = path.dirname(file);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(path.basename(file));
    }
    for (const [dir, entry] of this.#directories) {
      if (wanted.has(dir)) continue;
      entry.watcher.close();
      this.#directories.delete(dir);
    }
    for (const [dir, names] of wanted) {
      const entry = this.#directories.get(dir);
      if (entry !== undefined) {
        entry.names = names;
        continue;
      }
      try {
        // Not persistent: watching never keeps a stopped server's process alive.
        const watcher = watch(dir, { persistent: false }, (_event, name) => this.#noticed(dir, name));
        watcher.on('error', () => this.#forget(dir));
        this.#directories.set(dir, { watcher, names });
      } catch {
        // A directory that vanished between the load and now: nothing there to watch.
      }
    }
  }

  /** How many files are watched. */
  get size(): number {
    let count = 0;
    for (const { names } of this.#directories.values()) count += names.size;
    return count;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const dir of [...this.#directories.keys()]) this.#forget(dir);
  }

  #noticed(dir: string, name: string | Buffer | null): void {
    const entry = this.#directories.get(dir);
    // Some platforms do not say which file changed: then anything in the directory counts.
    if (entry === undefined || (name !== null && !entry.names.has(String(name)))) return;
    this.#changed.add(name === null ? dir : path.join(dir, String(name)));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const changed = [...this.#changed];
      this.#changed.clear();
      if (!this.#closed) this.#onChange(changed);
    }, SETTLE_MS);
  }

  #forget(dir: string): void {
    this.#directories.get(dir)?.watcher.close();
    this.#directories.delete(dir);
  }
}
