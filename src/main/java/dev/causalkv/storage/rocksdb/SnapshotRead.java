package dev.causalkv.storage.rocksdb;

import java.util.function.Supplier;
import org.rocksdb.ReadOptions;
import org.rocksdb.Snapshot;

/**
 * The lifecycle shared by snapshot iterations: a RocksDB snapshot taken when the read is created
 * (so it sees the state of that moment however long it is iterated), released once, and never
 * touched after the database is closed (closing releases the reads still open).
 */
abstract class SnapshotRead implements AutoCloseable {

  final Database database;
  final Snapshot snapshot;
  final ReadOptions readOptions;
  private boolean released;

  /** Called with the database entered (see {@link Database#enter}). */
  SnapshotRead(Database database) {
    this.database = database;
    this.snapshot = database.db.getSnapshot();
    this.readOptions = new ReadOptions().setSnapshot(snapshot).setFillCache(false);
    database.opened(this);
  }

  /** Closes the iterators of the subclass; called once, with the database open. */
  abstract void closeIterators();

  @Override
  public final void close() {
    if (!database.tryEnter()) return; // closed: closing released this read
    try {
      release();
    } finally {
      database.exit();
    }
  }

  /** Frees the native resources; called with the database open. */
  final synchronized void release() {
    if (released) return;
    released = true;
    database.released(this);
    closeIterators();
    readOptions.close();
    database.db.releaseSnapshot(snapshot);
  }

  /** Runs a step of the iteration with the database guaranteed open. */
  final <T> T step(Supplier<T> s) {
    if (!database.tryEnter()) throw new IllegalStateException("snapshot read used after the store was closed");
    try {
      synchronized (this) {
        if (released) throw new IllegalStateException("snapshot read used after close");
        return s.get();
      }
    } finally {
      database.exit();
    }
  }
}
