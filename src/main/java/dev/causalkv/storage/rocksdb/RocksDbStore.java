package dev.causalkv.storage.rocksdb;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The durable storage engine: an embedded RocksDB database in one directory ({@link Database},
 * set up by {@link RocksOptions}), holding the siblings of every key, the per-origin index of live
 * versions, the index of tombstones and the node metadata, each change of the replica written as
 * one atomic {@link WriteBatch} in the layout of {@link RecordCodec}.
 *
 * <p>When a commit counts as durable is {@link GroupCommit}'s decision, per {@link SyncMode}; after
 * any failed write or fsync the store is failed for good (the fail-stop rule of {@link Store}).
 * Deltas and scans iterate a RocksDB snapshot ({@link SnapshotDelta}, {@link SnapshotScan}).
 *
 * <p>Reads use no heap copy of the data: only RocksDB's bounded block cache and memtables, and a
 * small map of each origin's highest live seq (one entry per origin ever seen) that answers
 * {@link #hasVersionsAfter} without touching the disk.
 */
public final class RocksDbStore implements Store {

  /** When a committed batch counts as durable. */
  public enum SyncMode {
    /** Every commit fsyncs the write-ahead log before it returns. Survives power loss; slowest under concurrency. */
    ALWAYS,
    /** Commits are fsynced in groups by a syncer thread; a future completes after its group's fsync. */
    BATCH,
    /** Never fsync: survives kill -9 (the OS holds the log), loses recent writes on power loss. */
    NEVER;

    public static SyncMode parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
  }

  /** The data directory cannot be used; the message is one line fit for an operator. */
  public static final class StorageException extends RuntimeException {
    public StorageException(String message) {
      super(message);
    }

    public StorageException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Database database;
  private final SyncMode mode;
  private final WalSteps wal;
  private final GroupCommit group;

  // State below is changed only by commit(), which the replica calls under its lock.
  private final Map<String, Long> maxLiveSeq = new HashMap<>();
  private long keyCount;
  private NodeMeta meta;

  private RocksDbStore(Path dir, SyncMode mode, long cacheBytes, WalSteps wal) {
    this.mode = mode;
    this.wal = wal;
    this.database = Database.open(dir, cacheBytes);
    try {
      recover();
    } catch (RuntimeException | RocksDBException e) {
      database.close();
      if (e instanceof StorageException s) throw s;
      throw new StorageException("data directory " + dir + " is corrupt or unreadable: " + e.getMessage(), e);
    }
    this.group = new GroupCommit(mode, this::syncWal, dir.toString());
  }

  /**
   * Opens (or creates) the database in {@code dir}. Throws {@link StorageException} with a one-line
   * reason when the directory is in use by another process, corrupt, unreadable, or not empty
   * without holding a causalkv database; it never wipes anything.
   */
  public static RocksDbStore open(Path dir, SyncMode mode, long cacheBytes) {
    return open(dir, mode, cacheBytes, WalSteps.ROCKSDB);
  }

  /** As {@link #open(Path, SyncMode, long)}, with the disk steps of commits replaced (tests). */
  static RocksDbStore open(Path dir, SyncMode mode, long cacheBytes, WalSteps wal) {
    Database.loadNativeLibrary();
    return new RocksDbStore(dir, mode, cacheBytes, wal);
  }

  public Path directory() {
    return database.dir;
  }

  /** Tells {@code listener} of every fsync of the write-ahead log (for the fsync and group-commit metrics). */
  public void onSync(SyncListener listener) {
    group.onSync(listener);
  }

  public SyncMode syncMode() {
    return mode;
  }

  /** True once a write or an fsync has failed: see {@link Store}'s fail-stop rule. */
  public boolean failed() {
    return group.failed();
  }

  /** Reads the metadata, the key count and each origin's highest live seq. */
  private void recover() throws RocksDBException {
    byte[] m = database.db.get(database.meta, RecordCodec.META_KEY);
    try {
      this.meta = m == null ? null : RecordCodec.decodeMeta(m);
    } catch (RecordCodec.CorruptRecord e) {
      throw new StorageException("data directory " + database.dir + " has " + e.getMessage(), e);
    }
    byte[] c = database.db.get(database.meta, RecordCodec.COUNT_KEY);
    this.keyCount = c == null ? 0 : RecordCodec.decodeCount(c);
    maxLiveSeq.putAll(database.highestLiveSeqs());
  }

  /** The fsync step of {@link GroupCommit}: the database must still be open. */
  private void syncWal() throws RocksDBException {
    if (!database.tryEnter()) throw new IllegalStateException("store closed before sync");
    try {
      wal.sync(database.db);
    } finally {
      database.exit();
    }
  }

  // ---------------------------------------------------------------- the port

  @Override
  public NodeMeta loadMeta() {
    return meta;
  }

  @Override
  public Siblings get(String key) {
    database.enter();
    try {
      byte[] b = database.db.get(database.keys, RecordCodec.utf8(key));
      return b == null ? Siblings.EMPTY : RecordCodec.decodeSiblings(key, b);
    } catch (RocksDBException e) {
      throw new StorageException("read of " + key + " failed: " + e.getMessage(), e);
    } finally {
      database.exit();
    }
  }

  /**
   * Writes the batch and hands it to {@link GroupCommit}. The whole {@link WriteBatch} is built
   * before {@link GroupCommit#begin}, so between begin and written-or-failed there is only the
   * write and the update of this object's counters, and whatever they throw fails the store.
   */
  @Override
  public synchronized CompletableFuture<Void> commit(Batch batch) {
    database.enter();
    try (WriteBatch wb = new WriteBatch()) {
      long count = keyCount;
      Map<String, Long> removedMax = new TreeMap<>();
      for (Batch.KeyChange c : batch.changes()) {
        for (Version v : c.before().versions()) {
          if (c.after().contains(v.dot())) continue;
          byte[] dk = RecordCodec.dotKey(v.dot().origin(), v.dot().seq());
          wb.delete(database.log, dk);
          if (v.isTombstone()) wb.delete(database.tombs, dk);
          Long max = maxLiveSeq.get(v.dot().origin());
          if (max != null && max == v.dot().seq()) removedMax.put(v.dot().origin(), max);
        }
        for (Version v : c.after().versions()) {
          if (c.before().contains(v.dot())) continue;
          byte[] dk = RecordCodec.dotKey(v.dot().origin(), v.dot().seq());
          byte[] k = RecordCodec.utf8(v.key());
          wb.put(database.log, dk, k);
          if (v.isTombstone()) wb.put(database.tombs, dk, k);
        }
        byte[] k = RecordCodec.utf8(c.key());
        if (c.after().isEmpty()) wb.delete(database.keys, k);
        else wb.put(database.keys, k, RecordCodec.encodeSiblings(c.after()));
        if (c.before().isEmpty() && !c.after().isEmpty()) count++;
        if (!c.before().isEmpty() && c.after().isEmpty()) count--;
      }
      wb.put(database.meta, RecordCodec.META_KEY, RecordCodec.encodeMeta(batch.meta()));
      wb.put(database.meta, RecordCodec.COUNT_KEY, RecordCodec.encodeCount(count));

      long ticket = group.begin();
      try {
        wal.write(database.db, database.options.write, wb);
        keyCount = count;
        meta = batch.meta();
        for (Batch.KeyChange c : batch.changes()) {
          for (Version v : c.after().versions()) maxLiveSeq.merge(v.dot().origin(), v.dot().seq(), Math::max);
        }
        for (String origin : removedMax.keySet()) {
          if (maxLiveSeq.get(origin) > removedMax.get(origin)) continue; // a higher one was added
          long max = database.highestLiveSeq(origin);
          if (max > 0) maxLiveSeq.put(origin, max);
          else maxLiveSeq.remove(origin);
        }
      } catch (RocksDBException | RuntimeException e) {
        // The write failed, or it happened and this object's view of it is in doubt: fail-stop.
        throw group.writeFailed(e);
      }
      return group.written(ticket);
    } catch (RocksDBException e) {
      // Building the batch in memory failed: nothing was written, but the engine is in doubt.
      throw group.writeFailed(e);
    } finally {
      database.exit();
    }
  }

  @Override
  public CompletableFuture<Void> durable() {
    return group.durable();
  }

  @Override
  public boolean hasVersionsAfter(VectorClock since) {
    for (Map.Entry<String, Long> e : maxLiveSeq.entrySet()) {
      if (e.getValue() > since.get(e.getKey())) return true;
    }
    return false;
  }

  @Override
  public Delta delta(VectorClock since) {
    database.enter();
    try {
      List<String> origins = new ArrayList<>();
      for (Map.Entry<String, Long> e : new TreeMap<>(maxLiveSeq).entrySet()) {
        if (e.getValue() > since.get(e.getKey())) origins.add(e.getKey());
      }
      return new SnapshotDelta(database, since, origins);
    } finally {
      database.exit();
    }
  }

  @Override
  public Scan scan() {
    database.enter();
    try {
      return new SnapshotScan(database);
    } finally {
      database.exit();
    }
  }

  @Override
  public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    database.enter();
    try {
      return database.tombstones(upTo, after, limit);
    } finally {
      database.exit();
    }
  }

  @Override
  public long keyCount() {
    return keyCount;
  }

  @Override
  public void close() {
    group.close();
    database.close();
  }

  // ---------------------------------------------------------------- measurements

  /** How many fsyncs of the write-ahead log commits have made, for tests and measurements. */
  public long walSyncs() {
    return group.fsyncs();
  }

  /** The on-disk size of the database files, for measurements. */
  public long diskBytes() {
    return database.diskBytes();
  }

  /** Flushes memtables and compacts everything, for measurements of the steady on-disk size. */
  public void compact() {
    database.enter();
    try {
      database.compact();
    } catch (RocksDBException e) {
      throw new StorageException("compaction failed: " + e.getMessage(), e);
    } finally {
      database.exit();
    }
  }
}
