package dev.causalkv.protocol;

/**
 * Deliberate defects that the simulation's planted-bug tests switch on, to show that its checker
 * fails when the protocol is wrong (FoundationDB's BUGGIFY idea: the fault sits in the production
 * code path it breaks). Production passes none.
 */
public enum PlantedBug {
  /** The puller raises the marks an answer announces at its head, before merging its versions, so broken-off answers raise them too. */
  MARKS_BEFORE_VERSIONS,
  /** Reads never wait: every payload is treated as covered. */
  READS_NEVER_WAIT,
  /** Read answers merge the node's applied VC into the payload (docs/design.md §4 forbids it). */
  PAYLOAD_WITH_APPLIED,
  /** Complete pull answers carry at most one version per origin (a truncated, per-origin delta) but full marks. */
  ONE_VERSION_PER_ORIGIN,
  /** A re-admitted node skips reconciliation (the behaviour before it existed): collected deletes can come back. */
  SKIP_RECONCILE
}
