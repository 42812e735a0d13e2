package dev.causalkv.protocol;

import dev.causalkv.core.ViewState;

/** A message this node sends a peer on its own initiative; its outcome comes back as an {@link Event}. */
public sealed interface Send {

  /** Issue a pull; its answer comes back as AnswerBegan/Versions/Ended, or PullFailed/PullRefused. */
  record Pull(long pullId, String peer, PullRequest request) implements Send {}

  /** Push a view; the outcome comes back as PushAnswered. */
  record Push(long pushId, String peer, String from, ViewState view) implements Send {}

  /**
   * Ask a member to carry out a view change (this node is the one leaving, and must be drained);
   * comes back as ForwardAnswered.
   */
  record ForwardViewChange(long callId, String peer, String member, boolean add) implements Send {}
}
