package dev.causalkv.storage.rocksdb;

import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB set-up of the engine: one bounded block cache shared by every column family (with
 * the memtables charged to it), the options of the data and index families, and the column
 * families themselves; every native object here is closed by {@link #close}.
 *
 * <p>Column families, in the order of {@link #descriptors}: {@code default} (unused, RocksDB
 * requires it), {@code keys} (key → {@link RecordCodec siblings record}), {@code log}
 * ({@code origin 0x00 seq} → key, every live version), {@code tombs} (same layout, tombstones
 * only, for garbage collection) and {@code meta} (the node metadata, the key count, the format
 * mark). Changing a name or the order changes the on-disk format.
 */
final class RocksOptions implements AutoCloseable {

  static final String CF_KEYS = "keys";
  static final String CF_LOG = "log";
  static final String CF_TOMBS = "tombs";
  static final String CF_META = "meta";
  /** Positions in {@link #descriptors}, and so in the handle list RocksDB fills when opening. */
  static final int KEYS = 1;
  static final int LOG = 2;
  static final int TOMBS = 3;
  static final int META = 4;

  final DBOptions db;
  /** Writes go to the log without sync; durability is {@link GroupCommit}'s job. */
  final WriteOptions write;
  private final Cache cache;
  private final WriteBufferManager writeBuffers;
  private final BloomFilter bloom;
  private final ColumnFamilyOptions data;
  private final ColumnFamilyOptions index;

  RocksOptions(long cacheBytes) {
    this.cache = new LRUCache(cacheBytes);
    // Memtables are charged to the block cache, so the cache size bounds the engine's data memory.
    this.writeBuffers = new WriteBufferManager(cacheBytes / 2, cache);
    this.bloom = new BloomFilter(10);
    this.db = new DBOptions()
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
    this.data = new ColumnFamilyOptions()
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
    this.index = new ColumnFamilyOptions()
        .setWriteBufferSize(8L << 20)
        .setMaxWriteBufferNumber(3)
        .setCompressionType(CompressionType.LZ4_COMPRESSION)
        .setLevelCompactionDynamicLevelBytes(true)
        .setTableFormatConfig(new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setCacheIndexAndFilterBlocks(true)
            .setBlockSize(16 * 1024));
    // SYNC=always fsyncs with syncWal() right after the write (measured several times faster here
    // than a write with sync=true), still before commit returns and under the replica's lock.
    this.write = new WriteOptions().setSync(false);
  }

  /** The column families, data first, then the indexes and the metadata. */
  List<ColumnFamilyDescriptor> descriptors() {
    return List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, data),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_KEYS), data),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_LOG), index),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_TOMBS), index),
        new ColumnFamilyDescriptor(RecordCodec.utf8(CF_META), index));
  }

  @Override
  public void close() {
    write.close();
    db.close();
    data.close();
    index.close();
    bloom.close();
    writeBuffers.close();
    cache.close();
  }
}
