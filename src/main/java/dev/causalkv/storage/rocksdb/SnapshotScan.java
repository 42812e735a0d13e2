package dev.causalkv.storage.rocksdb;

import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import java.util.NoSuchElementException;
import org.rocksdb.RocksIterator;

/** Every key's siblings in key order, from one snapshot of the {@code keys} family. */
final class SnapshotScan extends SnapshotRead implements Store.Scan {

  private final RocksIterator it;
  private boolean started;

  /** Called with the database entered. */
  SnapshotScan(Database database) {
    super(database);
    this.it = database.db.newIterator(database.keys, readOptions);
  }

  @Override
  void closeIterators() {
    it.close();
  }

  @Override
  public boolean hasNext() {
    return step(() -> {
      start();
      return it.isValid();
    });
  }

  @Override
  public Siblings next() {
    return step(() -> {
      start();
      if (!it.isValid()) throw new NoSuchElementException();
      Siblings s = RecordCodec.decodeSiblings(RecordCodec.string(it.key()), it.value());
      it.next();
      return s;
    });
  }

  private void start() {
    if (started) return;
    it.seekToFirst();
    started = true;
  }
}
