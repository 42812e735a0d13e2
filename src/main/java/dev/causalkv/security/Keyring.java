package dev.causalkv.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The payload seal keys a node knows: its own, which it seals with, and those of the members it
 * has pulled from, which it verifies with. Grow-only.
 *
 * <p>Without {@code CLUSTER_TOKEN} each node makes a random 256-bit key at its first start and
 * keeps it in its data directory ({@value #OWN_FILE}, readable by its owner only), so the seal is
 * keyed by a secret nobody outside the cluster has. Keys travel only in the head of pull answers
 * that the serving node decided to serve, that is to members (all known keys in complete answers,
 * the server's own in own-origin ones), which add them here (and to
 * {@value #RING_FILE} beside the own key). With a token, every node derives the same key from it
 * and there is nothing to learn or hand out. Thread-safe.
 */
public final class Keyring {

  public static final String OWN_FILE = "seal.key";
  public static final String RING_FILE = "keyring";
  /** Keys kept at most: one per node (per lost data directory) that ever joined. */
  public static final int MAX_KEYS = 4096;
  /** Requests waiting for a key at most; past it they are refused at once. */
  public static final int MAX_WAITERS = 10_000;

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SealKey own;
  private final boolean shared;
  private final Path ringFile;
  /** Key id (hex) → the keys with that id (almost always one). */
  private final Map<String, List<SealKey>> byId = new LinkedHashMap<>();
  private final List<SealKey> all = new ArrayList<>();
  private final Map<String, List<Runnable>> waiting = new LinkedHashMap<>();
  private int waiters;

  private Keyring(SealKey own, boolean shared, Path ringFile) {
    this.own = own;
    this.shared = shared;
    this.ringFile = ringFile;
    add(own);
  }

  /** The keyring of a cluster with a token: one key, derived from it, that every node has. */
  public static Keyring shared(String clusterToken) {
    return new Keyring(SealKey.fromClusterToken(clusterToken), true, null);
  }

  /** A keyring kept only in memory ({@code DATA_DIR=:memory:}): a fresh key for this process. */
  public static Keyring inMemory(String node) {
    return new Keyring(SealKey.generate(node, new SecureRandom()), false, null);
  }

  /**
   * The keyring kept in {@code dir}: the own key from {@value #OWN_FILE} (made at the first start),
   * the learnt ones from {@value #RING_FILE}. Throws {@link IllegalStateException} with a one-line
   * reason when the files cannot be read or written.
   */
  public static Keyring open(Path dir, String node) {
    try {
      Files.createDirectories(dir);
      Path ownFile = dir.resolve(OWN_FILE);
      SealKey own;
      if (Files.exists(ownFile)) {
        own = new SealKey(node, readKey(ownFile));
        restrict(ownFile);
      } else {
        own = SealKey.generate(node, new SecureRandom());
        writeAtomically(ownFile, B64.encodeToString(own.secret()) + "\n");
      }
      Keyring k = new Keyring(own, false, dir.resolve(RING_FILE));
      Path ring = dir.resolve(RING_FILE);
      if (Files.exists(ring)) {
        restrict(ring);
        for (String line : Files.readAllLines(ring, StandardCharsets.UTF_8)) {
          String t = line.strip();
          if (t.isEmpty()) continue;
          String[] f = t.split(" ");
          if (f.length != 2) throw new IllegalStateException(ring + " has a malformed line");
          k.add(new SealKey(f[0], decodeKey(f[1], ring)));
        }
      }
      return k;
    } catch (IOException e) {
      throw new IllegalStateException("cannot use the payload seal key in " + dir + ": " + e.getMessage());
    }
  }

  /** The key this node seals with. */
  public SealKey own() {
    return own;
  }

  /** True with a cluster token: the one key is derived, never learnt nor handed out. */
  public boolean isShared() {
    return shared;
  }

  /** The keys whose id is {@code id}. */
  public synchronized List<SealKey> withId(byte[] id) {
    List<SealKey> l = byId.get(HexFormat.of().formatHex(id));
    return l == null ? List.of() : List.copyOf(l);
  }

  /** What to hand a member in a pull answer: every key known (none with a cluster token). */
  public synchronized List<SealKey> toShare() {
    return shared ? List.of() : List.copyOf(all);
  }

  public synchronized int size() {
    return all.size();
  }

  /** The nodes whose keys are known (each key is labelled with the node that made it). */
  public synchronized java.util.Set<String> nodes() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (SealKey k : all) out.add(k.node());
    return out;
  }

  /**
   * Adds the keys not known yet (up to {@link #MAX_KEYS}), keeps them on disk, and runs what was
   * waiting for them; returns how many were new. Ignored with a cluster token.
   */
  public int learn(List<SealKey> keys) {
    if (shared) return 0;
    List<Runnable> wake = new ArrayList<>();
    int added = 0;
    synchronized (this) {
      for (SealKey k : keys) {
        if (all.size() >= MAX_KEYS) break;
        if (!add(k)) continue;
        added++;
        List<Runnable> w = waiting.remove(k.idHex());
        if (w != null) {
          waiters -= w.size();
          wake.addAll(w);
        }
      }
      if (added > 0 && ringFile != null) persist();
    }
    for (Runnable r : wake) r.run();
    return added;
  }

  /**
   * Runs {@code onKnown} once a key with {@code id} is learnt (at once if it is known already).
   * Returns a handle that cancels the wait (false if it ran or was cancelled), or null when too
   * many requests wait already.
   */
  public Wait whenKnown(byte[] id, Runnable onKnown) {
    String hex = HexFormat.of().formatHex(id);
    synchronized (this) {
      if (!byId.containsKey(hex)) {
        if (waiters >= MAX_WAITERS) return null;
        waiting.computeIfAbsent(hex, x -> new ArrayList<>()).add(onKnown);
        waiters++;
        return () -> cancel(hex, onKnown);
      }
    }
    onKnown.run();
    return () -> false;
  }

  /** A wait for a key, which may be given up. */
  @FunctionalInterface
  public interface Wait {
    /** Gives the wait up; true if it was still waiting (its action will not run). */
    boolean cancel();
  }

  private synchronized boolean cancel(String hex, Runnable r) {
    List<Runnable> l = waiting.get(hex);
    if (l == null || !l.remove(r)) return false;
    waiters--;
    if (l.isEmpty()) waiting.remove(hex);
    return true;
  }

  private boolean add(SealKey k) {
    if (all.contains(k)) return false;
    all.add(k);
    byId.computeIfAbsent(k.idHex(), x -> new ArrayList<>()).add(k);
    return true;
  }

  /** Rewrites the keyring file whole (it is small and changes rarely), atomically, owner-only. */
  private void persist() {
    StringBuilder b = new StringBuilder();
    for (SealKey k : all) {
      if (k.equals(own)) continue;
      b.append(k.node().isEmpty() ? "-" : k.node()).append(' ').append(B64.encodeToString(k.secret())).append('\n');
    }
    try {
      writeAtomically(ringFile, b.toString());
    } catch (IOException e) {
      // the keys stay known in memory; a restart relearns them from the members' pull answers
      java.util.logging.Logger.getLogger(Keyring.class.getName()).warning("cannot write " + ringFile + ": " + e.getMessage());
    }
  }

  private static byte[] readKey(Path f) throws IOException {
    return decodeKey(Files.readString(f, StandardCharsets.UTF_8).strip(), f);
  }

  private static byte[] decodeKey(String text, Path f) {
    try {
      byte[] k = B64D.decode(text);
      if (k.length == SealKey.BYTES) return k;
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalStateException(f + " does not hold a " + SealKey.BYTES + "-byte key");
  }

  /** Writes {@code text} to {@code f} through a temporary file created owner-only, then renamed over it. */
  private static void writeAtomically(Path f, String text) throws IOException {
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException notPosix) {
      Files.createFile(tmp);
    } catch (FileAlreadyExistsException raced) {
      throw new IOException("another process is writing " + f);
    }
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true); // a key handed out in a token must survive a crash
    }
    try {
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
    }
    try (java.nio.channels.FileChannel dir = java.nio.channels.FileChannel.open(f.toAbsolutePath().getParent())) {
      dir.force(true); // and so must the rename
    } catch (IOException | UnsupportedOperationException notSupported) {
      // some file systems cannot sync a directory; the file itself is synced
    }
  }

  private static void restrict(Path f) throws IOException {
    try {
      Files.setPosixFilePermissions(f, OWNER_ONLY);
    } catch (UnsupportedOperationException notPosix) {
      // nothing to tighten on this file system
    }
  }
}
