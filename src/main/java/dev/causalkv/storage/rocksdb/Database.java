package dev.causalkv.storage.rocksdb;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.storage.rocksdb.RocksDbStore.StorageException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WriteOptions;

/**
 * One open RocksDB database in a data directory, with its column families and the lifecycle that
 * keeps their native handles valid: every use holds the read side of a lock ({@link #enter}),
 * {@link #close} takes the write side and first releases every {@link SnapshotRead} still open.
 *
 * <p>It also answers the walks of the index families ({@code log}, {@code tombs}) that the store
 * needs, each called with the database entered.
 */
final class Database {

  final Path dir;
  final RocksDB db;
  final ColumnFamilyHandle keys;
  final ColumnFamilyHandle log;
  final ColumnFamilyHandle tombs;
  final ColumnFamilyHandle meta;
  final RocksOptions options;
  private final List<ColumnFamilyHandle> handles;

  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile boolean closed;
  /** Snapshot reads not yet closed; the database cannot close while they hold snapshots. */
  private final Set<SnapshotRead> openReads = ConcurrentHashMap.newKeySet();

  private Database(Path dir, RocksOptions options, RocksDB db, List<ColumnFamilyHandle> handles) {
    this.dir = dir;
    this.options = options;
    this.db = db;
    this.handles = handles;
    this.keys = handles.get(RocksOptions.KEYS);
    this.log = handles.get(RocksOptions.LOG);
    this.tombs = handles.get(RocksOptions.TOMBS);
    this.meta = handles.get(RocksOptions.META);
  }

  /**
   * Opens (or creates) the database in {@code dir} and checks its format mark. Throws
   * {@link StorageException} with a one-line reason when the directory is in use by another
   * process, corrupt, unreadable, or not empty without holding a causalkv database; it never wipes
   * anything.
   */
  static Database open(Path dir, long cacheBytes) {
    checkDirectory(dir);
    RocksOptions options = new RocksOptions(cacheBytes);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB db;
    try {
      db = RocksDB.open(options.db, dir.toString(), options.descriptors(), handles);
    } catch (RocksDBException e) {
      options.close();
      throw openFailure(dir, e);
    }
    Database d = new Database(dir, options, db, handles);
    try {
      d.checkFormat();
    } catch (RuntimeException | RocksDBException e) {
      d.closeNative();
      if (e instanceof StorageException s) throw s;
      throw new StorageException("data directory " + dir + " is corrupt or unreadable: " + e.getMessage(), e);
    }
    return d;
  }

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
    if (msg.contains("LOCK") || msg.toLowerCase(Locale.ROOT).contains("lock")) {
      return new StorageException("data directory " + dir + " is in use by another process (its LOCK is held): " + msg, e);
    }
    if (st != null && st.getCode() == Status.Code.Corruption) {
      return new StorageException("data directory " + dir + " is corrupt: " + msg, e);
    }
    return new StorageException("cannot open data directory " + dir + ": " + msg, e);
  }

  /** A new database gets the format mark; an old one must carry ours. */
  private void checkFormat() throws RocksDBException {
    byte[] format = db.get(meta, RecordCodec.FORMAT_KEY);
    if (format == null) {
      try (RocksIterator it = db.newIterator(keys)) {
        it.seekToFirst();
        if (it.isValid() || db.get(meta, RecordCodec.META_KEY) != null) {
          throw new StorageException("data directory " + dir + " holds data but no format mark: corrupt");
        }
      }
      try (WriteOptions wo = new WriteOptions().setSync(true)) {
        db.put(meta, wo, RecordCodec.FORMAT_KEY, RecordCodec.FORMAT);
      }
    } else if (!Arrays.equals(format, RecordCodec.FORMAT)) {
      throw new StorageException("data directory " + dir + " has unknown format '" + RecordCodec.string(format) + "'");
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Takes the right to use native handles; pair with {@link #exit}. Throws once closed. */
  void enter() {
    if (!tryEnter()) throw new IllegalStateException("store is closed");
  }

  /** As {@link #enter}, but answers false (holding nothing) once closed. */
  boolean tryEnter() {
    lifecycle.readLock().lock();
    if (!closed) return true;
    lifecycle.readLock().unlock();
    return false;
  }

  void exit() {
    lifecycle.readLock().unlock();
  }

  void opened(SnapshotRead r) {
    openReads.add(r);
  }

  void released(SnapshotRead r) {
    openReads.remove(r);
  }

  // ---------------------------------------------------------------- index queries and measurements

  /** Each origin's highest seq in the {@code log} index, one seek per origin (at recovery). */
  Map<String, Long> highestLiveSeqs() throws RocksDBException {
    Map<String, Long> out = new HashMap<>();
    try (RocksIterator it = db.newIterator(log)) {
      it.seekToFirst();
      while (it.isValid()) {
        String origin = RecordCodec.originOf(it.key());
        it.seekForPrev(RecordCodec.originEnd(origin));
        out.put(origin, RecordCodec.seqOf(it.key()));
        it.seek(RecordCodec.originEnd(origin));
      }
      it.status();
    }
    return out;
  }

  /** The highest seq of {@code origin} in the {@code log} index; 0 when it has none. */
  long highestLiveSeq(String origin) {
    try (RocksIterator it = db.newIterator(log)) {
      it.seekForPrev(RecordCodec.originEnd(origin));
      return it.isValid() && RecordCodec.originOf(it.key()).equals(origin) ? RecordCodec.seqOf(it.key()) : 0;
    }
  }

  /** Up to {@code limit} entries of the {@code tombs} index covered by {@code upTo}, after {@code after}. */
  List<Store.DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    List<Store.DotKey> out = new ArrayList<>();
    try (RocksIterator it = db.newIterator(tombs)) {
      if (after == null) it.seekToFirst();
      else it.seek(RecordCodec.dotKey(after.origin(), after.seq() + 1));
      while (it.isValid() && out.size() < limit) {
        byte[] k = it.key();
        String origin = RecordCodec.originOf(k);
        long seq = RecordCodec.seqOf(k);
        if (seq <= upTo.get(origin)) {
          out.add(new Store.DotKey(new Dot(origin, seq), RecordCodec.string(it.value())));
          it.next();
        } else {
          it.seek(RecordCodec.originEnd(origin)); // the rest of this origin is beyond upTo
        }
      }
    }
    return out;
  }

  /** The size of the directory's files. */
  long diskBytes() {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return -1;
    }
  }

  /** Every flushed memtable and compacted family, for measurements of the steady on-disk size. */
  void compact() throws RocksDBException {
    try (org.rocksdb.FlushOptions fo = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
      db.flush(fo, handles);
    }
    db.compactRange(keys);
    db.compactRange(log);
    db.compactRange(tombs);
  }

  /** Waits for every use in progress, releases open snapshot reads, and frees everything native. */
  void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) return;
      closed = true;
      try {
        db.syncWal();
      } catch (RocksDBException ignored) {
        // closing anyway; whatever was reported durable had been synced already
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
    options.close();
  }

  /**
   * Loads RocksDB's native library (idempotent). The jar carries the linux x86-64 and aarch64 glibc
   * libraries only; elsewhere RocksDB's loader fails, and a static initialiser would surface that as
   * an ExceptionInInitializerError without a message, so the reason is put in one line here.
   */
  static void loadNativeLibrary() {
    try {
      org.rocksdb.RocksDB.loadLibrary();
    } catch (RuntimeException | LinkageError e) {
      String why = String.valueOf(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()).replaceAll("\\.$", "");
      throw new IllegalStateException("no RocksDB native library for " + System.getProperty("os.name") + "/"
          + System.getProperty("os.arch") + " in this jar (it carries linux x86-64 and aarch64, glibc): "
          + why + "; run on one of those, or with DATA_DIR=:memory:");
    }
  }
}
