package dev.causalkv.storage;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.wire.Json;
import com.google.gson.JsonObject;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The durable storage engine: an embedded RocksDB database in one directory, holding the siblings
 * of every key, the per-origin index of live versions, the index of tombstones and the node
 * metadata, each change of the replica written as one atomic {@link WriteBatch}.
 *
 * <p>Column families: {@code keys} (key → {@link RecordCodec siblings record}), {@code log}
 * ({@code origin 0x00 seq} → key, every live version), {@code tombs} (same layout, tombstones only,
 * for garbage collection) and {@code meta} (the {@link NodeMeta} as JSON, and the key count).
 *
 * <p>Durability follows {@link SyncMode}. In {@code BATCH} mode (group commit) a commit writes its
 * batch to the write-ahead log without fsync while the replica's lock is held, and a single syncer
 * thread fsyncs the log and completes the futures of every commit written before that fsync, so
 * concurrent writers share one fsync and the lock is never held across one.
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
      return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
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

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
  private static final String CF_KEYS = "keys";
  private static final String CF_LOG = "log";
  private static final String CF_TOMBS = "tombs";
  private static final String CF_META = "meta";
  private static final byte[] META_KEY = RecordCodec.utf8("node");
  private static final byte[] COUNT_KEY = RecordCodec.utf8("keycount");
  private static final byte[] FORMAT_KEY = RecordCodec.utf8("format");
  private static final byte[] FORMAT = RecordCodec.utf8("causalkv-1");

  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final SyncMode mode;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final ColumnFamilyOptions indexOptions;
  private final Cache cache;
  private final WriteBufferManager writeBuffers;
  private final BloomFilter bloom;
  private final WriteOptions writeOptions;
  private final List<ColumnFamilyHandle> handles;
  private final ColumnFamilyHandle keys;
  private final ColumnFamilyHandle log;
  private final ColumnFamilyHandle tombs;
  private final ColumnFamilyHandle metaCf;

  /** Guards native handles: every operation holds the read lock, {@link #close} the write lock. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile boolean closed;
  /** Snapshot reads not yet closed; the database cannot close while they hold snapshots. */
  private final java.util.Set<SnapshotRead> openReads = java.util.concurrent.ConcurrentHashMap.newKeySet();

  // State below is changed only by commit(), which the replica calls under its lock.
  private final Map<String, Long> maxLiveSeq = new HashMap<>();
  private long keyCount;
  private NodeMeta meta;

  // Group commit (BATCH mode).
  private final ReentrantLock syncMutex = new ReentrantLock();
  private final Condition syncWork = syncMutex.newCondition();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private long written;
  private long synced;
  private long walSyncs;
  private Throwable syncFailure;
  private boolean stopping;
  private final Thread syncer;
  private volatile SyncListener syncListener = SyncListener.NONE;
  private final java.util.concurrent.ExecutorService acks;

  private record Pending(long upTo, CompletableFuture<Void> future) {}

  private RocksDbStore(Path dir, SyncMode mode, long cacheBytes) {
    this.dir = dir;
    this.mode = mode;
    checkDirectory(dir);
    this.cache = new LRUCache(cacheBytes);
    // Memtables are charged to the block cache, so the cache size bounds the engine's data memory.
    this.writeBuffers = new WriteBufferManager(cacheBytes / 2, cache);
    this.bloom = new BloomFilter(10);
    this.dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setParanoidChecks(true)
        .setMaxOpenFiles(512)
        .setMaxBackgroundJobs(2)
        .setKeepLogFileNum(2)
        .setMaxTotalWalSize(256L << 20)
        .setBytesPerSync(1L << 20)
        .setWriteBufferManager(writeBuffers)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL);
    this.cfOptions = new ColumnFamilyOptions()
        .setWriteBufferSize(32L << 20)
        .setMaxWriteBufferNumber(3)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true)
        .setTableFormatConfig(new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setFilterPolicy(bloom)
            .setCacheIndexAndFilterBlocks(true)
            .setPinL0FilterAndIndexBlocksInCache(true)
            .setBlockSize(16 * 1024));
    this.indexOptions = new ColumnFamilyOptions()
        .setWriteBufferSize(8L << 20)
        .setMaxWriteBufferNumber(3)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true)
        .setTableFormatConfig(new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setCacheIndexAndFilterBlocks(true)
            .setBlockSize(16 * 1024));
    // ALWAYS syncs with syncWal() right after the write (measured several times faster here than
    // a write with sync=true), still before commit returns and under the replica's lock.
    this.writeOptions = new WriteOptions().setSync(false);
    List<ColumnFamilyDescriptor> descriptors = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_KEYS), cfOptions),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_LOG), indexOptions),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_TOMBS), indexOptions),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_META), indexOptions));
    this.handles = new ArrayList<>();
    RocksDB opened;
    try {
      opened = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      closeOptions();
      throw openFailure(dir, e);
    }
    this.db = opened;
    this.keys = handles.get(1);
    this.log = handles.get(2);
    this.tombs = handles.get(3);
    this.metaCf = handles.get(4);
    try {
      recover();
    } catch (RuntimeException | RocksDBException e) {
      closeNative();
      if (e instanceof StorageException s) throw s;
      throw new StorageException("data directory " + dir + " is corrupt or unreadable: " + e.getMessage(), e);
    }
    if (mode == SyncMode.BATCH) {
      this.acks = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "wal-acks");
        t.setDaemon(true);
        return t;
      });
      this.syncer = new Thread(this::syncLoop, "wal-syncer");
      this.syncer.setDaemon(true);
      this.syncer.start();
    } else {
      this.acks = null;
      this.syncer = null;
    }
  }

  /**
   * Opens (or creates) the database in {@code dir}. Throws {@link StorageException} with a one-line
   * reason when the directory is in use by another process, corrupt, unreadable, or not empty
   * without holding a causalkv database; it never wipes anything.
   */
  public static RocksDbStore open(Path dir, SyncMode mode, long cacheBytes) {
    return new RocksDbStore(dir, mode, cacheBytes);
  }

  public Path directory() {
    return dir;
  }

  /** Tells {@code listener} of every fsync of the write-ahead log (for the fsync and group-commit metrics). */
  public void onSync(SyncListener listener) {
    this.syncListener = listener;
  }

  public SyncMode syncMode() {
    return mode;
  }

  // ---------------------------------------------------------------- opening and recovery

  private static void checkDirectory(Path dir) {
    File f = dir.toFile();
    if (f.exists() && !f.isDirectory()) throw new StorageException("data directory " + dir + " is not a directory");
    if (!f.exists()) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new StorageException("cannot create data directory " + dir + ": " + e);
      }
      return;
    }
    if (!f.canRead() || !f.canWrite() || !f.canExecute()) {
      throw new StorageException("data directory " + dir + " is not readable and writable by this process");
    }
    boolean hasCurrent = new File(f, "CURRENT").exists();
    boolean empty;
    try (Stream<Path> s = Files.list(dir)) {
      empty = s.findAny().isEmpty();
    } catch (IOException e) {
      throw new StorageException("cannot list data directory " + dir + ": " + e);
    }
    if (!empty && !hasCurrent) {
      throw new StorageException("data directory " + dir + " is not empty but holds no database (no CURRENT file);"
          + " refusing to overwrite it: move it away or set DATA_DIR to an empty directory");
    }
  }

  private static StorageException openFailure(Path dir, RocksDBException e) {
    Status st = e.getStatus();
    String msg = e.getMessage() == null ? String.valueOf(st) : e.getMessage();
    if (msg.contains("LOCK") || msg.toLowerCase(java.util.Locale.ROOT).contains("lock")) {
      return new StorageException("data directory " + dir + " is in use by another process (its LOCK is held): " + msg, e);
    }
    if (st != null && st.getCode() == Status.Code.Corruption) {
      return new StorageException("data directory " + dir + " is corrupt: " + msg, e);
    }
    return new StorageException("cannot open data directory " + dir + ": " + msg, e);
  }

  private void recover() throws RocksDBException {
    byte[] format = db.get(metaCf, FORMAT_KEY);
    byte[] m = db.get(metaCf, META_KEY);
    if (format == null) {
      try (RocksIterator it = db.newIterator(keys)) {
        it.seekToFirst();
        if (it.isValid() || m != null) throw new StorageException("data directory " + dir + " holds data but no format mark: corrupt");
      }
      try (WriteOptions wo = new WriteOptions().setSync(true)) {
        db.put(metaCf, wo, FORMAT_KEY, FORMAT);
      }
    } else if (!Arrays.equals(format, FORMAT)) {
      throw new StorageException("data directory " + dir + " has unknown format '" + RecordCodec.string(format) + "'");
    }
    this.meta = m == null ? null : decodeMeta(m);
    byte[] c = db.get(metaCf, COUNT_KEY);
    this.keyCount = c == null ? 0 : ByteBuffer.wrap(c).getLong();
    // One seek per origin: the highest live seq of each.
    try (RocksIterator it = db.newIterator(log)) {
      it.seekToFirst();
      while (it.isValid()) {
        String origin = RecordCodec.originOf(it.key());
        it.seekForPrev(RecordCodec.originEnd(origin));
        maxLiveSeq.put(origin, RecordCodec.seqOf(it.key()));
        it.seek(RecordCodec.originEnd(origin));
      }
      it.status();
    }
  }

  private NodeMeta decodeMeta(byte[] b) {
    try {
      JsonObject o = Json.object(RecordCodec.string(b));
      return new NodeMeta(o.get("origin").getAsString(), o.get("ownSeq").getAsLong(), Json.decodeVc(o.get("lastOwnVc")),
          Json.decodeVc(o.get("applied")), Json.decodeView(o.get("view")));
    } catch (RuntimeException e) {
      throw new StorageException("data directory " + dir + " has corrupt node metadata: " + e.getMessage(), e);
    }
  }

  private static byte[] encodeMeta(NodeMeta m) {
    JsonObject o = new JsonObject();
    o.addProperty("origin", m.origin());
    o.addProperty("ownSeq", m.ownSeq());
    o.add("lastOwnVc", Json.encode(m.lastOwnVc()));
    o.add("applied", Json.encode(m.applied()));
    o.add("view", Json.encode(m.view()));
    return RecordCodec.utf8(o.toString());
  }

  // ---------------------------------------------------------------- the port

  @Override
  public NodeMeta loadMeta() {
    return meta;
  }

  @Override
  public Siblings get(String key) {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      byte[] b = db.get(keys, RecordCodec.utf8(key));
      return b == null ? Siblings.EMPTY : RecordCodec.decodeSiblings(key, b);
    } catch (RocksDBException e) {
      throw new StorageException("read of " + key + " failed: " + e.getMessage(), e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public CompletableFuture<Void> commit(Batch batch) {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      long count = keyCount;
      Map<String, Long> removedMax = new TreeMap<>();
      try (WriteBatch wb = new WriteBatch()) {
        for (Batch.KeyChange c : batch.changes()) {
          for (Version v : c.before().versions()) {
            if (c.after().contains(v.dot())) continue;
            byte[] dk = RecordCodec.dotKey(v.dot().origin(), v.dot().seq());
            wb.delete(log, dk);
            if (v.isTombstone()) wb.delete(tombs, dk);
            Long max = maxLiveSeq.get(v.dot().origin());
            if (max != null && max == v.dot().seq()) removedMax.put(v.dot().origin(), max);
          }
          for (Version v : c.after().versions()) {
            if (c.before().contains(v.dot())) continue;
            byte[] dk = RecordCodec.dotKey(v.dot().origin(), v.dot().seq());
            byte[] k = RecordCodec.utf8(v.key());
            wb.put(log, dk, k);
            if (v.isTombstone()) wb.put(tombs, dk, k);
          }
          byte[] k = RecordCodec.utf8(c.key());
          if (c.after().isEmpty()) wb.delete(keys, k);
          else wb.put(keys, k, RecordCodec.encodeSiblings(c.after()));
          if (c.before().isEmpty() && !c.after().isEmpty()) count++;
          if (!c.before().isEmpty() && c.after().isEmpty()) count--;
        }
        wb.put(metaCf, META_KEY, encodeMeta(batch.meta()));
        wb.put(metaCf, COUNT_KEY, ByteBuffer.allocate(8).putLong(count).array());
        db.write(writeOptions, wb);
        if (mode == SyncMode.ALWAYS) {
          long t0 = System.nanoTime();
          db.syncWal();
          syncListener.synced(System.nanoTime() - t0, 1);
        }
      }
      keyCount = count;
      meta = batch.meta();
      for (Batch.KeyChange c : batch.changes()) {
        for (Version v : c.after().versions()) maxLiveSeq.merge(v.dot().origin(), v.dot().seq(), Math::max);
      }
      for (String origin : removedMax.keySet()) {
        if (maxLiveSeq.get(origin) > removedMax.get(origin)) continue; // a higher one was added
        recomputeMax(origin);
      }
      return afterWrite();
    } catch (RocksDBException e) {
      throw new StorageException("write to " + dir + " failed: " + e.getMessage(), e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private void recomputeMax(String origin) {
    try (RocksIterator it = db.newIterator(log)) {
      it.seekForPrev(RecordCodec.originEnd(origin));
      if (it.isValid() && RecordCodec.originOf(it.key()).equals(origin)) {
        maxLiveSeq.put(origin, RecordCodec.seqOf(it.key()));
      } else {
        maxLiveSeq.remove(origin);
      }
    }
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
    lifecycle.readLock().lock();
    try {
      checkOpen();
      List<String> origins = new ArrayList<>();
      for (Map.Entry<String, Long> e : new TreeMap<>(maxLiveSeq).entrySet()) {
        if (e.getValue() > since.get(e.getKey())) origins.add(e.getKey());
      }
      return new SnapshotDelta(since, origins);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public Scan scan() {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      return new SnapshotScan();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      List<DotKey> out = new ArrayList<>();
      try (RocksIterator it = db.newIterator(tombs)) {
        if (after == null) it.seekToFirst();
        else it.seek(RecordCodec.dotKey(after.origin(), after.seq() + 1));
        while (it.isValid() && out.size() < limit) {
          byte[] k = it.key();
          String origin = RecordCodec.originOf(k);
          long seq = RecordCodec.seqOf(k);
          if (seq <= upTo.get(origin)) {
            out.add(new DotKey(new Dot(origin, seq), RecordCodec.string(it.value())));
            it.next();
          } else {
            it.seek(RecordCodec.originEnd(origin)); // the rest of this origin is beyond upTo
          }
        }
      }
      return out;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public long keyCount() {
    return keyCount;
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("store is closed");
  }

  // ---------------------------------------------------------------- durability

  /** The future of the commit just written: per the sync mode. Called with the replica's lock held. */
  private CompletableFuture<Void> afterWrite() {
    if (mode != SyncMode.BATCH) return DONE;
    syncMutex.lock();
    try {
      written++;
      if (syncFailure != null) return CompletableFuture.failedFuture(syncFailure);
      CompletableFuture<Void> f = new CompletableFuture<>();
      pending.add(new Pending(written, f));
      syncWork.signal();
      return f;
    } finally {
      syncMutex.unlock();
    }
  }

  @Override
  public CompletableFuture<Void> durable() {
    if (mode != SyncMode.BATCH) return DONE;
    syncMutex.lock();
    try {
      if (syncFailure != null) return CompletableFuture.failedFuture(syncFailure);
      if (synced >= written) return DONE;
      CompletableFuture<Void> f = new CompletableFuture<>();
      pending.add(new Pending(written, f));
      syncWork.signal();
      return f;
    } finally {
      syncMutex.unlock();
    }
  }

  /**
   * The group-commit loop: take the count of commits written so far, fsync the log once, then
   * complete every future waiting on a commit up to that count. Writers arriving during the fsync
   * share the next one.
   */
  private void syncLoop() {
    while (true) {
      long target;
      long group;
      syncMutex.lock();
      try {
        while (pending.isEmpty() && !stopping) syncWork.awaitUninterruptibly();
        if (pending.isEmpty()) return;
        target = written;
        group = target - synced;
      } finally {
        syncMutex.unlock();
      }
      Throwable failure = null;
      lifecycle.readLock().lock();
      try {
        if (closed) failure = new IllegalStateException("store closed before sync");
        else {
          long t0 = System.nanoTime();
          db.syncWal();
          syncListener.synced(System.nanoTime() - t0, group);
        }
      } catch (RocksDBException | RuntimeException e) {
        failure = new StorageException("fsync of the write-ahead log in " + dir + " failed: " + e.getMessage(), e);
      } finally {
        lifecycle.readLock().unlock();
      }
      List<CompletableFuture<Void>> done = new ArrayList<>();
      syncMutex.lock();
      try {
        if (failure != null) {
          syncFailure = failure; // after a failed fsync nothing later can be promised durable
          while (!pending.isEmpty()) done.add(pending.poll().future());
        } else {
          synced = target;
          walSyncs++;
          while (!pending.isEmpty() && pending.peek().upTo() <= target) done.add(pending.poll().future());
        }
      } finally {
        syncMutex.unlock();
      }
      if (done.isEmpty()) continue;
      Throwable outcome = failure;
      // Answering the waiters (their callbacks send HTTP answers) runs on another thread, so that
      // the next fsync can start at once.
      acks.execute(() -> {
        for (CompletableFuture<Void> f : done) {
          if (outcome == null) f.complete(null);
          else f.completeExceptionally(outcome);
        }
      });
    }
  }

  // ---------------------------------------------------------------- snapshot iterations

  /** Resources of one snapshot read: released once, and never after the database is closed. */
  private abstract class SnapshotRead implements AutoCloseable {
    final Snapshot snapshot;
    final ReadOptions readOptions;
    private boolean released;

    SnapshotRead() {
      snapshot = db.getSnapshot();
      readOptions = new ReadOptions().setSnapshot(snapshot).setFillCache(false);
      openReads.add(this);
    }

    abstract void closeIterators();

    @Override
    public final void close() {
      lifecycle.readLock().lock();
      try {
        release();
      } finally {
        lifecycle.readLock().unlock();
      }
    }

    /** Frees the native resources; called with the database open. */
    final synchronized void release() {
      if (released) return;
      released = true;
      openReads.remove(this);
      closeIterators();
      readOptions.close();
      db.releaseSnapshot(snapshot);
    }

    /** Runs a step of the iteration with the database guaranteed open. */
    final <T> T step(java.util.function.Supplier<T> s) {
      lifecycle.readLock().lock();
      try {
        synchronized (this) {
          if (released) throw new IllegalStateException("snapshot read used after close");
          return s.get();
        }
      } finally {
        lifecycle.readLock().unlock();
      }
    }
  }

  /** The complete delta for {@code since}, walking each origin's index from one snapshot. */
  private final class SnapshotDelta extends SnapshotRead implements Delta {
    private final VectorClock since;
    private final List<String> origins;
    private final RocksIterator it;
    private int originIdx = -1;
    private String origin;
    private Version next;
    private String cachedKey;
    private Siblings cachedSiblings;

    SnapshotDelta(VectorClock since, List<String> origins) {
      this.since = since;
      this.origins = origins;
      this.it = db.newIterator(log, readOptions);
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
          byte[] b = db.get(keys, readOptions, RecordCodec.utf8(key));
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

  /** Every key's siblings in key order from one snapshot. */
  private final class SnapshotScan extends SnapshotRead implements Scan {
    private final RocksIterator it;
    private boolean started;

    SnapshotScan() {
      this.it = db.newIterator(keys, readOptions);
    }

    @Override
    void closeIterators() {
      it.close();
    }

    @Override
    public boolean hasNext() {
      return step(() -> {
        if (!started) {
          it.seekToFirst();
          started = true;
        }
        return it.isValid();
      });
    }

    @Override
    public Siblings next() {
      return step(() -> {
        if (!started) {
          it.seekToFirst();
          started = true;
        }
        if (!it.isValid()) throw new NoSuchElementException();
        Siblings s = RecordCodec.decodeSiblings(RecordCodec.string(it.key()), it.value());
        it.next();
        return s;
      });
    }
  }

  // ---------------------------------------------------------------- closing

  @Override
  public void close() {
    if (syncer != null) {
      syncMutex.lock();
      try {
        stopping = true;
        syncWork.signalAll();
      } finally {
        syncMutex.unlock();
      }
      try {
        syncer.join(10_000);
        acks.shutdown();
        acks.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    lifecycle.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      try {
        db.syncWal();
      } catch (RocksDBException ignored) {
        // closing anyway; the log was synced by every completed commit
      }
      for (SnapshotRead r : List.copyOf(openReads)) r.release();
      closeNative();
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  private void closeNative() {
    for (ColumnFamilyHandle h : handles) h.close();
    db.close();
    closeOptions();
  }

  private void closeOptions() {
    writeOptions.close();
    dbOptions.close();
    cfOptions.close();
    indexOptions.close();
    bloom.close();
    writeBuffers.close();
    cache.close();
  }

  /** How many group-commit fsyncs the syncer has made (BATCH mode), for tests and measurements. */
  public long walSyncs() {
    syncMutex.lock();
    try {
      return walSyncs;
    } finally {
      syncMutex.unlock();
    }
  }

  /** The on-disk size of the database files, for measurements. */
  public long diskBytes() {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return -1;
    }
  }

  /** Flushes memtables and compacts everything, for measurements of the steady on-disk size. */
  public void compact() {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      try (org.rocksdb.FlushOptions fo = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
        db.flush(fo, handles);
      }
      db.compactRange(keys);
      db.compactRange(log);
      db.compactRange(tombs);
    } catch (RocksDBException e) {
      throw new StorageException("compaction failed: " + e.getMessage(), e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }
}
