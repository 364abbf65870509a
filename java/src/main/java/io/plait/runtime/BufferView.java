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

  public ByteBuffer buffer() {
    return buffer;
  }

  /** May be null when the buffer owns its memory (a Java heap or direct buffer). */
  public Object owner() {
    return owner;
  }
}
