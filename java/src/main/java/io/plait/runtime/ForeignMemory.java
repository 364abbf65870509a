package io.plait.runtime;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Direct ByteBuffers over memory Java does not own (a Python buffer, a mapping of the
 * shared-memory store) that keep that memory's owner alive themselves.
 *
 * <p>A buffer made by JNI's {@code NewDirectByteBuffer} (what JPype hands Java) knows
 * nothing of the Python object under it. JPype releases its hold on the Python buffer when
 * the buffer object it returned is collected, and for a read-only one (bytes, a store
 * mapping: a DirectByteBufferR) Java's slices do not keep that object: they reference the
 * writable buffer under it. Once the last Java object holding the owner (a {@link
 * BufferView}'s, a Tensor's) is collected too, the Python buffer is freed or unmapped and a
 * slice still in use points at nothing. The JIT makes that window real: a local that is no
 * longer read is not a GC root, so a Tensor is collectable while its bytes are still being
 * copied (a Java worker crashed so, encoding a tensor it had fetched with Plait.get).
 *
 * <p>{@link #withOwner} rebuilds such a buffer with the owner as its JDK attachment: every
 * slice, duplicate, read-only and typed view of a direct buffer holds its root's
 * attachment, and the JDK's bulk copies keep their buffers reachable until they are done,
 * so the memory stays valid as long as any view of it is reachable. This needs the JDK's
 * {@code DirectByteBuffer(long address, int capacity, Object attachment, ...)} constructor,
 * opened by {@code --add-opens=java.base/java.nio=ALL-UNNAMED} (which plait's JVMs get, as
 * Arrow needs it); without it {@link #withOwner} returns the buffer as it is and only the
 * codec's explicit holds ({@code Tensor}, {@code EncodedObject}) protect the memory.
 */
final class ForeignMemory {
  private static final Constructor<?> CONSTRUCTOR;
  private static final Field ADDRESS;

  static {
    Constructor<?> ctor = null;
    Field address = null;
    try {
      Class<?> cls = Class.forName("java.nio.DirectByteBuffer");
      for (Constructor<?> c : cls.getDeclaredConstructors()) {
        // JDK 11: (long, int, Object); JDK 17: (long, int, Object, MemorySegmentProxy);
        // JDK 21+: (long, long, Object, MemorySegment).
        Class<?>[] p = c.getParameterTypes();
        if ((p.length == 3 || p.length == 4) && p[0] == long.class
            && (p[1] == int.class || p[1] == long.class) && p[2] == Object.class
            && (p.length == 3 || !p[3].isPrimitive())) {
          ctor = c;
          break;
        }
      }
      address = java.nio.Buffer.class.getDeclaredField("address");
      if (ctor == null || !ctor.trySetAccessible() || !address.trySetAccessible()) {
        ctor = null;
        address = null;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      ctor = null;
      address = null;
    }
    CONSTRUCTOR = ctor;
    ADDRESS = address;
  }

  /** What a rebuilt buffer holds: the owner, and the buffer it was made from (which may
   * own the memory itself, e.g. one from allocateDirect, or hold JPype's reference to it). */
  private static final class Hold {
    @SuppressWarnings("unused")
    private final Object owner;
    @SuppressWarnings("unused")
    private final ByteBuffer source;

    Hold(Object owner, ByteBuffer source) {
      this.owner = owner;
      this.source = source;
    }
  }

  private ForeignMemory() {}

  /** Whether {@link #withOwner} can attach owners on this JVM. */
  static boolean supported() {
    return CONSTRUCTOR != null;
  }

  /**
   * A direct buffer over {@code buffer}'s remaining bytes (same memory, position 0, read-only
   * if {@code buffer} is) whose every view keeps {@code owner} reachable. A heap buffer, a
   * null owner, or a JVM that does not allow it: {@code buffer} itself.
   */
  static ByteBuffer withOwner(ByteBuffer buffer, Object owner) {
    if (owner == null || !buffer.isDirect() || CONSTRUCTOR == null) {
      return buffer;
    }
    try {
      long address = ADDRESS.getLong(buffer) + buffer.position();
      int length = buffer.remaining();
      Object hold = new Hold(owner, buffer);
      Class<?>[] p = CONSTRUCTOR.getParameterTypes();
      Object capacity = p[1] == int.class ? (Object) length : (Object) (long) length;
      ByteBuffer out = (ByteBuffer) (p.length == 3
          ? CONSTRUCTOR.newInstance(address, capacity, hold)
          : CONSTRUCTOR.newInstance(address, capacity, hold, null));
      return buffer.isReadOnly() ? out.asReadOnlyBuffer() : out;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return buffer;
    }
  }
}
