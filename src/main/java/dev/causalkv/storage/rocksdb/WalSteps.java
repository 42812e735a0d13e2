package dev.causalkv.storage.rocksdb;

import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The two steps of a commit that touch the disk, writing a batch to the write-ahead log and
 * fsyncing the log: a seam so tests can make either fail; production uses {@link #ROCKSDB}.
 */
interface WalSteps {

  void write(RocksDB db, WriteOptions options, WriteBatch batch) throws RocksDBException;

  void sync(RocksDB db) throws RocksDBException;

  WalSteps ROCKSDB = new WalSteps() {
    @Override
    public void write(RocksDB db, WriteOptions options, WriteBatch batch) throws RocksDBException {
      db.write(options, batch);
    }

    @Override
    public void sync(RocksDB db) throws RocksDBException {
      db.syncWal();
    }
  };
}
