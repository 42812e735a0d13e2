package dev.causalkv.storage.rocksdb;

/** Told of each fsync of a durable engine's log: how long it took and how many commits it made durable. */
@FunctionalInterface
public interface SyncListener {

  SyncListener NONE = (nanos, commits) -> {};

  /** Called on the syncing thread right after the fsync returned; must be quick and must not throw. */
  void synced(long nanos, long commits);
}
