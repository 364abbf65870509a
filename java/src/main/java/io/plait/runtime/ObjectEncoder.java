package io.plait.runtime;

import io.plait.BaseActorHandle;
import io.plait.ChunkedArray;
import io.plait.ErrorInfo;
import io.plait.ObjectRef;
import io.plait.RecordBatch;
import io.plait.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Java values to the object format (docs/object-format.md), writing the canonical msgpack
 * forms the golden vectors pin down.
 *
 * <p>What each Java type becomes: null → nil; Boolean → bool; Long, Integer, Short, Byte →
 * int; BigInteger in 0…2^64−1 → int (uint64); Character → str; Double, Float → float64;
 * String, other CharSequence → str; byte[] → bin; ByteBuffer → bin (its remaining bytes);
 * long[]/int[]/short[]/double[]/float[]/boolean[] → a 1-d Tensor (int64/int32/int16/
 * float64/float32/bool); {@link Tensor} → Tensor; Object[], any Collection → array (a Set
 * in its iteration order); Map → map (in iteration order: use a LinkedHashMap for stable
 * bytes); {@link ObjectRef} → ObjectRef; {@link BaseActorHandle} → ActorHandle; {@link
 * ErrorInfo} → Error; {@link RecordBatch} → Arrow "record_batch", other Arrow {@code
 * VectorSchemaRoot} → Arrow "table" (one batch), {@code FieldVector} → Arrow "array", {@link
 * ChunkedArray} → Arrow "chunked_array". Anything else fails with a {@link CodecException} naming the
 * type. Java never writes Tuple (code 7) or PythonPickle (code 6).
 */
public final class ObjectEncoder {
  /** Deeper nesting is refused (as msgpack readers refuse it), which also stops cycles. */
  static final int MAX_DEPTH = 512;

  private final List<ByteBuffer> buffers = new ArrayList<>();
  // What keeps the buffers' memory alive (a decoded Tensor holds its Python owner): the
  // EncodedObject holds these until its bytes are copied out.
  private final List<Object> keepAlive = new ArrayList<>();
  private final List<ObjectRef<?>> refs = new ArrayList<>();
  private int flags;
  private CharsetEncoder utf8;  // made on the first string (most values have none)
  // Most encoded values are small (a call's argument or result): start with a small buffer
  // (msgpack's default is 8 KiB per packer) and let it grow.
  private static final MessagePack.PackerConfig PACKER =
      new MessagePack.PackerConfig().withBufferSize(256);

  private ObjectEncoder() {}

  /** Lays {@code value} out in the object format (buffers are not copied yet). */
  public static EncodedObject encode(Object value) {
    ObjectEncoder enc = new ObjectEncoder();
    MessageBufferPacker p = PACKER.newBufferPacker();
    try {
      enc.write(p, value, 0);
      p.close();
    } catch (IOException e) {  // in-memory packer: only from a bug
      throw new CodecException("msgpack failed: " + e, e);
    }
    return new EncodedObject(p.toByteArray(), enc.buffers, enc.flags, enc.refs,
        enc.keepAlive);
  }

  /** {@code encode(value).toBytes()}. */
  public static byte[] encodeToBytes(Object value) {
    return encode(value).toBytes();
  }

  private void write(MessageBufferPacker p, Object v, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new CodecException("value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
    }
    if (v == null) {
      p.packNil();
    } else if (v instanceof Boolean) {
      p.packBoolean((Boolean) v);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short
        || v instanceof Byte) {
      p.packLong(((Number) v).longValue());
    } else if (v instanceof BigInteger) {
      BigInteger b = (BigInteger) v;
      if (b.signum() < 0 ? b.bitLength() > 63 : b.bitLength() > 64) {
        throw new CodecException("integer " + b + " is outside -2^63 … 2^64-1, which the "
            + "object format carries");
      }
      p.packBigInteger(b);
    } else if (v instanceof Double || v instanceof Float) {
      p.packDouble(((Number) v).doubleValue());  // float32 is widened: always float64
    } else if (v instanceof CharSequence || v instanceof Character) {
      writeString(p, v.toString());
    } else if (v instanceof byte[]) {
      byte[] b = (byte[]) v;
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof ByteBuffer) {
      ByteBuffer b = ((ByteBuffer) v).duplicate();
      byte[] copy = new byte[b.remaining()];
      b.get(copy);
      p.packBinaryHeader(copy.length);
      p.writePayload(copy);
    } else if (v instanceof Tensor) {
      writeTensor(p, (Tensor) v);
    } else if (v instanceof long[]) {
      writeTensor(p, Tensor.of((long[]) v));
    } else if (v instanceof int[]) {
      writeTensor(p, Tensor.of((int[]) v));
    } else if (v instanceof short[]) {
      writeTensor(p, Tensor.of((short[]) v));
    } else if (v instanceof double[]) {
      writeTensor(p, Tensor.of((double[]) v));
    } else if (v instanceof float[]) {
      writeTensor(p, Tensor.of((float[]) v));
    } else if (v instanceof boolean[]) {
      writeTensor(p, Tensor.of((boolean[]) v));
    } else if (v instanceof ChunkedArray) {  // before Collection: it is a List too
      ChunkedArray chunks = (ChunkedArray) v;
      writeArrow(p, FormatConstants.ARROW_CHUNKED_ARRAY, ArrowIpc.write(chunks, chunks.field()));
    } else if (v instanceof Object[]) {
      Object[] items = (Object[]) v;
      p.packArrayHeader(items.length);
      for (Object item : items) {
        write(p, item, depth + 1);
      }
    } else if (v instanceof Collection) {
      Collection<?> items = (Collection<?>) v;
      Object[] snapshot = items.toArray();  // one size, even if the collection changes
      p.packArrayHeader(snapshot.length);
      for (Object item : snapshot) {
        write(p, item, depth + 1);
      }
    } else if (v instanceof Map) {
      Map<?, ?> map = (Map<?, ?>) v;
      List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
      p.packMapHeader(entries.size());
      for (Map.Entry<?, ?> e : entries) {
        write(p, e.getKey(), depth + 1);
        write(p, e.getValue(), depth + 1);
      }
    } else if (v instanceof ObjectRef) {
      writeObjectRef(p, (ObjectRef<?>) v);
    } else if (v instanceof BaseActorHandle) {
      MessageBufferPacker inner = MessagePack.newDefaultBufferPacker();
      write(inner, ((BaseActorHandle) v).state(), depth + 1);
      writeExt(p, FormatConstants.EXT_ACTOR_HANDLE, inner);
    } else if (v instanceof ErrorInfo) {
      writeError(p, (ErrorInfo) v, depth);
    } else if (v instanceof RecordBatch) {
      writeArrow(p, FormatConstants.ARROW_RECORD_BATCH, ArrowIpc.write((RecordBatch) v));
    } else if (v instanceof VectorSchemaRoot) {
      writeArrow(p, FormatConstants.ARROW_TABLE, ArrowIpc.write((VectorSchemaRoot) v));
    } else if (v instanceof FieldVector) {
      writeArrow(p, FormatConstants.ARROW_ARRAY, ArrowIpc.write((FieldVector) v));
    } else {
      throw new CodecException("cannot encode a value of type " + v.getClass().getName()
          + ": the object format carries null, Boolean, numbers, String, byte[], arrays, "
          + "Lists, Maps, Tensors, primitive arrays, Arrow data, ObjectRefs, actor handles "
          + "and ErrorInfo");
    }
  }

  private void writeString(MessageBufferPacker p, String s) throws IOException {
    ByteBuffer bytes;
    try {
      if (utf8 == null) {
        utf8 = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
      }
      bytes = utf8.reset().encode(CharBuffer.wrap(s));
    } catch (CharacterCodingException e) {
      throw new CodecException("string is not valid Unicode (a lone surrogate?): "
          + e.getMessage(), e);
    }
    p.packRawStringHeader(bytes.remaining());
    p.writePayload(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
  }

  private static void writeExt(MessageBufferPacker p, int code, MessageBufferPacker inner)
      throws IOException {
    inner.close();
    byte[] data = inner.toByteArray();
    p.packExtensionTypeHeader((byte) code, data.length);
    p.writePayload(data);
  }

  /** {@code holder}: an object that keeps {@code b}'s memory valid (its owner). */
  private int addBuffer(ByteBuffer b, Object holder) {
    buffers.add(b.duplicate());
    keepAlive.add(holder);
    return buffers.size() - 1;
  }

  private void writeTensor(MessageBufferPacker p, Tensor t) throws IOException {
    MessageBufferPacker inner = MessagePack.newDefaultBufferPacker();
    inner.packArrayHeader(3);
    writeString(inner, t.dtype());
    long[] shape = t.shape();
    inner.packArrayHeader(shape.length);
    for (long d : shape) {
      inner.packLong(d);
    }
    inner.packLong(addBuffer(t.data(), t));  // t holds the owner of foreign memory
    writeExt(p, FormatConstants.EXT_TENSOR, inner);
  }

  private void writeArrow(MessageBufferPacker p, String kind, byte[] stream) throws IOException {
    MessageBufferPacker inner = MessagePack.newDefaultBufferPacker();
    inner.packArrayHeader(2);
    writeString(inner, kind);
    inner.packLong(addBuffer(ByteBuffer.wrap(stream), null));
    writeExt(p, FormatConstants.EXT_ARROW, inner);
  }

  private void writeObjectRef(MessageBufferPacker p, ObjectRef<?> ref) throws IOException {
    MessageBufferPacker inner = MessagePack.newDefaultBufferPacker();
    inner.packArrayHeader(2);
    byte[] id = ref.objectId();
    inner.packBinaryHeader(id.length);
    inner.writePayload(id);
    ObjectRef.Owner owner = ref.owner();
    inner.packArrayHeader(4);
    writeString(inner, owner.nodeId());
    writeString(inner, owner.ip());
    inner.packLong(owner.port());
    byte[] worker = owner.workerId();
    inner.packBinaryHeader(worker.length);
    inner.writePayload(worker);
    writeExt(p, FormatConstants.EXT_OBJECT_REF, inner);
    refs.add(ref);
    flags |= FormatConstants.FLAG_HAS_OBJECT_REFS;
  }

  private void writeError(MessageBufferPacker p, ErrorInfo e, int depth) throws IOException {
    MessageBufferPacker inner = MessagePack.newDefaultBufferPacker();
    inner.packArrayHeader(6);
    writeString(inner, e.typeName());
    writeString(inner, e.message());
    writeString(inner, e.language());
    writeString(inner, e.stack());
    if (e.cause() == null) {
      inner.packNil();
    } else {
      write(inner, e.cause(), depth + 1);
    }
    byte[] pickle = e.pythonPickle();
    if (pickle == null) {
      inner.packNil();
    } else {
      inner.packBinaryHeader(pickle.length);
      inner.writePayload(pickle);
    }
    writeExt(p, FormatConstants.EXT_ERROR, inner);
  }
}
