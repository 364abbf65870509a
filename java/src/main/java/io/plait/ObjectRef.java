package io.plait;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A reference to an object owned by some core worker (the object format's ObjectRef ext):
 * the object's id and its owner's address. {@code T} is the type {@link Plait#get} converts
 * the value to (Object when unknown).
 *
 * <p>A ref the runtime handed to Java (a put's, a task's or actor call's result, a ref
 * inside a value read with {@link Plait#get} or inside a task's arguments) carries the
 * host's hold on the object, shared by the ref and its {@link #as} copies: the object stays
 * alive while Java can reach any of them, and the hold is given back once the JVM's GC has
 * collected them all (io.plait.runtime.RefHolds). A ref made with the constructor carries
 * no hold.
 */
public final class ObjectRef<T> {
  /** The owner's address: the node (hex id), the owner's gRPC endpoint and worker id. */
  public static final class Owner {
    private final String nodeId;
    private final String ip;
    private final long port;
    private final byte[] workerId;

    public Owner(String nodeId, String ip, long port, byte[] workerId) {
      this.nodeId = Objects.requireNonNull(nodeId);
      this.ip = Objects.requireNonNull(ip);
      this.port = port;
      this.workerId = workerId.clone();
    }

    public String nodeId() {
      return nodeId;
    }

    public String ip() {
      return ip;
    }

    public long port() {
      return port;
    }

    public byte[] workerId() {
      return workerId.clone();
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Owner)) {
        return false;
      }
      Owner w = (Owner) o;
      return nodeId.equals(w.nodeId) && ip.equals(w.ip) && port == w.port
          && Arrays.equals(workerId, w.workerId);
    }

    @Override
    public int hashCode() {
      return Objects.hash(nodeId, ip, port, Arrays.hashCode(workerId));
    }

    @Override
    public String toString() {
      return ip + ":" + port;
    }
  }

  private final byte[] objectId;
  private final Owner owner;
  private final Class<T> type;
  /** The runtime's hold (a token its Cleaner watches), or null: only kept reachable. */
  @SuppressWarnings("unused")
  private final Object hold;

  public ObjectRef(byte[] objectId, Owner owner, Class<T> type) {
    this(objectId.clone(), owner, type, null);
  }

  private ObjectRef(byte[] objectId, Owner owner, Class<T> type, Object hold) {
    this.objectId = objectId;
    this.owner = Objects.requireNonNull(owner, "owner");
    this.type = Objects.requireNonNull(type, "type");
    this.hold = hold;
  }

  /**
   * For the runtime (io.plait.runtime.RefHolds): {@code ref} carrying {@code hold}, which
   * it and its {@link #as} copies keep reachable.
   */
  public static <T> ObjectRef<T> held(ObjectRef<T> ref, Object hold) {
    return new ObjectRef<>(ref.objectId, ref.owner, ref.type, Objects.requireNonNull(hold));
  }

  @SuppressWarnings("unchecked")
  public static ObjectRef<Object> untyped(byte[] objectId, Owner owner) {
    return new ObjectRef<>(objectId, owner, Object.class);
  }

  /** The same reference, read as {@code type} (sharing this ref's hold, if any). */
  public <U> ObjectRef<U> as(Class<U> type) {
    return new ObjectRef<>(objectId, owner, Objects.requireNonNull(type, "type"), hold);
  }

  public byte[] objectId() {
    return objectId.clone();
  }

  public String hex() {
    return HexFormat.of().formatHex(objectId);
  }

  public Owner owner() {
    return owner;
  }

  public Class<T> type() {
    return type;
  }

  /** Same object id and owner (the type is only how Java reads it). */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ObjectRef)) {
      return false;
    }
    ObjectRef<?> r = (ObjectRef<?>) o;
    return Arrays.equals(objectId, r.objectId) && owner.equals(r.owner);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(objectId);
  }

  @Override
  public String toString() {
    return "ObjectRef(" + hex() + ")";
  }
}
