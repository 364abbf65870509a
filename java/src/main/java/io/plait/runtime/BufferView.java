package io.plait.runtime;

import java.nio.ByteBuffer;

/**
 * Memory Java did not allocate (a Python buffer, a view of the shared-memory store) as a
 * ByteBuffer, with the object that keeps it alive. The codec hands {@code owner} to every
 * view it makes into {@code buffer} (tensors, Arrow vectors), so the memory stays valid as
 * long as Java can reach one of them.
 */
public final class BufferView {
  private final ByteBuffer buffer;
  private final Object owner;

  public BufferView(ByteBuffer buffer, Object owner) {
    this.buffer = buffer;
    this.owner = owner;
  }

  /**
   * The Python bridge's views of the values of one get, made in one call: value i is
   * {@code inline[i]} (a small value copied into a Java array, which owns its memory) or,
   * where that is null, {@code views[i]} over memory {@code owners[i]} keeps alive. {@code
   * inline} may be null (no inline value), and so may {@code views} and {@code owners}
   * (every value inline).
   */
  public static BufferView[] of(byte[][] inline, ByteBuffer[] views, AutoCloseable[] owners) {
    int n = inline != null ? inline.length : views != null ? views.length : 0;
    BufferView[] out = new BufferView[n];
    for (int i = 0; i < n; i++) {
      byte[] b = inline != null ? inline[i] : null;
      if (b != null) {
        out[i] = new BufferView(ByteBuffer.wrap(b), null);
      } else if (views != null && views[i] != null) {
        out[i] = new BufferView(views[i], owners != null ? owners[i] : null);
      } else {
        throw new IllegalArgumentException("value " + i + " is missing");
      }
    }
    return out;
  }

  public ByteBuffer buffer() {
    return buffer;
  }

  /** May be null when the buffer owns its memory (a Java heap or direct buffer). */
  public Object owner() {
    return owner;
  }
}
