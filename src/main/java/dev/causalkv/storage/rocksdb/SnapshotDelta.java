package dev.causalkv.storage.rocksdb;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.storage.rocksdb.RocksDbStore.StorageException;
import java.util.List;
import java.util.NoSuchElementException;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The complete delta for {@code since}: each listed origin's index walked from
 * {@code since[origin] + 1} in one snapshot, every entry resolved to its version in the
 * {@code keys} family of the same snapshot.
 */
final class SnapshotDelta extends SnapshotRead implements Store.Delta {

  private final VectorClock since;
  private final List<String> origins;
  private final RocksIterator it;
  private int originIdx = -1;
  private String origin;
  private Version next;
  /** The last key read: consecutive index entries often name the same key. */
  private String cachedKey;
  private Siblings cachedSiblings;

  /** Called with the database entered; {@code origins} are those with a live version after {@code since}. */
  SnapshotDelta(Database database, VectorClock since, List<String> origins) {
    super(database);
    this.since = since;
    this.origins = origins;
    this.it = database.db.newIterator(database.log, readOptions);
  }

  @Override
  void closeIterators() {
    it.close();
  }

  @Override
  public boolean hasNext() {
    if (next == null) next = step(this::advance);
    return next != null;
  }

  @Override
  public Version next() {
    if (!hasNext()) throw new NoSuchElementException();
    Version v = next;
    next = null;
    return v;
  }

  private Version advance() {
    while (true) {
      if (origin != null && it.isValid()) {
        byte[] k = it.key();
        if (RecordCodec.originOf(k).equals(origin)) {
          long seq = RecordCodec.seqOf(k);
          String key = RecordCodec.string(it.value());
          it.next();
          return versionAt(key, new Dot(origin, seq));
        }
      }
      if (++originIdx >= origins.size()) return null;
      origin = origins.get(originIdx);
      it.seek(RecordCodec.dotKey(origin, since.get(origin) + 1));
    }
  }

  private Version versionAt(String key, Dot dot) {
    try {
      if (!key.equals(cachedKey)) {
        byte[] b = database.db.get(database.keys, readOptions, RecordCodec.utf8(key));
        cachedKey = key;
        cachedSiblings = b == null ? Siblings.EMPTY : RecordCodec.decodeSiblings(key, b);
      }
    } catch (RocksDBException e) {
      throw new StorageException("read of " + key + " failed: " + e.getMessage(), e);
    }
    for (Version v : cachedSiblings.versions()) if (v.dot().equals(dot)) return v;
    throw new RecordCodec.CorruptRecord("index names " + dot + " for key " + key + " but the key does not hold it");
  }
}
