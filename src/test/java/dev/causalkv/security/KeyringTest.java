package dev.causalkv.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seal keys: made once, kept owner-only, learnt and kept, waited for. */
class KeyringTest {

  @Test
  void theOwnKeyIsMadeOnceAndKeptOwnerOnly(@TempDir Path dir) throws Exception {
    Keyring k = Keyring.open(dir, "10.0.0.2:8080");
    Path f = dir.resolve(Keyring.OWN_FILE);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertEquals(k.own(), Keyring.open(dir, "10.0.0.2:8080").own(), "the same key at the next start");
    assertNotEquals(k.own(), Keyring.open(dir.resolve("other"), "10.0.0.2:8080").own(), "another directory, another key");
    assertNotEquals(Keyring.inMemory("a:1").own(), Keyring.inMemory("a:1").own(), "in memory: a fresh key per process");
    // group-readable after a careless copy: tightened again
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    Keyring.open(dir, "10.0.0.2:8080");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
  }

  @Test
  void learntKeysAreKeptAcrossRestartsAndHandedOnWithTheOwn(@TempDir Path dir) throws Exception {
    Keyring k = Keyring.open(dir, "10.0.0.2:8080");
    SealKey b = SealKey.generate("10.0.0.3:8080", new SecureRandom());
    SealKey c = SealKey.generate("10.0.0.4:8080", new SecureRandom());
    assertEquals(2, k.learn(List.of(b, c, k.own())));
    assertEquals(0, k.learn(List.of(b)), "grow-only, no duplicates");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Keyring.RING_FILE))));
    Keyring again = Keyring.open(dir, "10.0.0.2:8080");
    assertEquals(3, again.size());
    assertEquals(List.of(b), again.withId(b.id()));
    assertTrue(again.toShare().containsAll(List.of(k.own(), b, c)));
  }

  @Test
  void aMalformedKeyFileStopsTheStartWithOneLine(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(Keyring.OWN_FILE), "not a key\n");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Keyring.open(dir, "a:1"));
    assertTrue(e.getMessage().contains(Keyring.OWN_FILE), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void aTokenDerivesOneSharedKeyThatIsNeitherLearntNorHandedOut() {
    Keyring k = Keyring.shared("s3cret");
    assertEquals(Keyring.shared("s3cret").own(), k.own());
    assertNotEquals(Keyring.shared("other").own(), k.own());
    assertTrue(k.isShared());
    assertEquals(0, k.learn(List.of(SealKey.generate("b:1", new SecureRandom()))));
    assertTrue(k.toShare().isEmpty());
  }

  @Test
  void waitsRunWhenTheKeyIsLearntAndCanBeGivenUp() {
    Keyring k = Keyring.inMemory("a:1");
    SealKey b = SealKey.generate("b:1", new SecureRandom());
    SealKey c = SealKey.generate("c:1", new SecureRandom());
    AtomicInteger ran = new AtomicInteger();
    Keyring.Wait wb = k.whenKnown(b.id(), ran::incrementAndGet);
    Keyring.Wait wc = k.whenKnown(c.id(), ran::incrementAndGet);
    assertTrue(wc.cancel());
    assertFalse(wc.cancel());
    k.learn(List.of(b, c));
    assertEquals(1, ran.get(), "b's wait ran, c's was given up");
    assertFalse(wb.cancel(), "it ran already");
    k.whenKnown(b.id(), ran::incrementAndGet);
    assertEquals(2, ran.get(), "a known key runs at once");
  }

  @Test
  void waitsAreBounded() {
    Keyring k = Keyring.inMemory("a:1");
    byte[] id = SealKey.generate("b:1", new SecureRandom()).id();
    List<Keyring.Wait> waits = new ArrayList<>();
    for (int i = 0; i < Keyring.MAX_WAITERS; i++) waits.add(k.whenKnown(id, () -> {}));
    assertNull(k.whenKnown(id, () -> {}));
    waits.get(0).cancel();
    assertTrue(k.whenKnown(id, () -> {}) != null, "room again once one gave up");
  }
}
