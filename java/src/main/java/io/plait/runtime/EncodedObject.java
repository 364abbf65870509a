package io.plait.runtime;

import io.plait.ObjectRef;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One value laid out in the object format, not yet copied anywhere: the msgpack payload and
 * the out-of-band buffers (views of tensors' memory, Arrow IPC streams). {@link #writeTo}
 * copies them once into their destination (a byte array, shared memory).
 *
 * <p>A buffer may be a view of memory Java does not own (a decoded tensor over a Python
 * buffer or a store mapping, echoed back): the object holds whatever keeps that memory
 * alive (the Tensor, which holds its owner) and stays reachable until writeTo has copied
 * it, since the value it was encoded from may already be garbage.
 */
public final class EncodedObject {
  private final byte[] payload;
  private final List<ByteBuffer> buffers;
  private final int flags;
  private final List<ObjectRef<?>> refs;
  private final long[] offsets;
  private final long totalSize;
  // Keeps the memory under `buffers` valid (entries may be null): never read.
  @SuppressWarnings("unused")
  private final Object[] keepAlive;

  EncodedObject(byte[] payload, List<ByteBuffer> buffers, int flags, List<ObjectRef<?>> refs,
                List<Object> keepAlive) {
    this.keepAlive = keepAlive.toArray();
    this.payload = payload;
    this.buffers = List.copyOf(buffers);
    this.flags = flags;
    this.refs = List.copyOf(refs);
    this.offsets = new long[buffers.size()];
    long end = FormatConstants.HEADER_SIZE
        + (long) FormatConstants.BUFFER_ENTRY_SIZE * buffers.size() + payload.length;
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = align64(end);
      end = offsets[i] + buffers.get(i).remaining();
    }
    this.totalSize = end;
  }

  static long align64(long x) {
    return (x + FormatConstants.ALIGNMENT - 1) & -(long) FormatConstants.ALIGNMENT;
  }

  /** The object's size in bytes. */
  public long totalSize() {
    return totalSize;
  }

  /** Every ObjectRef in the value, in the order encoded. */
  public List<ObjectRef<?>> refs() {
    return refs;
  }

  /** Writes the object at {@code dest}'s position (which advances by totalSize()). */
  public void writeTo(ByteBuffer dest) {
    try {
      write(dest);
    } finally {
      // The buffers' owners must outlive the copy: keep this (and keepAlive) reachable
      // until it is done, whatever the JIT thinks of the caller's locals.
      Reference.reachabilityFence(this);
    }
  }

  private void write(ByteBuffer dest) {
    if (dest.remaining() < totalSize) {
      throw new IllegalArgumentException("the object needs " + totalSize + " bytes, the "
          + "destination has " + dest.remaining());
    }
    ByteBuffer out = dest.slice().order(ByteOrder.LITTLE_ENDIAN);
    out.put(FormatConstants.MAGIC).put((byte) FormatConstants.VERSION).put((byte) flags).putShort((short) 0)
        .putLong(payload.length).putLong(buffers.size());
    for (int i = 0; i < offsets.length; i++) {
      out.putLong(offsets[i]).putLong(buffers.get(i).remaining());
    }
    out.put(payload);
    for (int i = 0; i < offsets.length; i++) {
      // Zero padding: a destination from a pool may hold old bytes.
      while (out.position() < offsets[i]) {
        out.put((byte) 0);
      }
      out.put(buffers.get(i).duplicate());
    }
    dest.position(dest.position() + (int) totalSize);
  }

  /** The object as a new byte array. */
  public byte[] toBytes() {
    if (totalSize > Integer.MAX_VALUE - 8) {
      throw new CodecException("an object of " + totalSize + " bytes does not fit a byte[]");
    }
    byte[] out = new byte[(int) totalSize];
    writeTo(ByteBuffer.wrap(out));
    return out;
  }
}
