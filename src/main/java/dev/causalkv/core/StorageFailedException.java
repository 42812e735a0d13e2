package dev.causalkv.core;

/**
 * The store has failed (a write or an fsync did not succeed) and takes no more commits: the node
 * must stop taking writes rather than guess which of its dots survived.
 *
 * <p>Thrown by {@link Store#commit} once the store has failed (and by the commit whose write
 * failed), and the exception every {@link Store#commit} and {@link Store#durable} future of a
 * failed store completes with. The failure is permanent for the life of the store object; only a
 * restart, which recovers exactly what reached the disk, brings the node back.
 */
public final class StorageFailedException extends RuntimeException {

  public StorageFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
