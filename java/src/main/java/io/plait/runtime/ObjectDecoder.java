package io.plait.runtime;

import io.plait.BaseActorHandle;
import io.plait.ErrorInfo;
import io.plait.ObjectRef;
import io.plait.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;

/**
 * The object format (docs/object-format.md) to Java values: nil → null, bool → Boolean,
 * int → Long (uint64 above 2^63−1 → BigInteger), float → Double, str → String, bin →
 * byte[], array and Tuple → ArrayList, map → LinkedHashMap, ObjectRef → {@link ObjectRef}
 * (of Object), ActorHandle → {@link BaseActorHandle#fromState}, Arrow → VectorSchemaRoot
 * ("table"), {@link io.plait.RecordBatch} (a VectorSchemaRoot; "record_batch"), FieldVector
 * ("array") or {@link io.plait.ChunkedArray} (a List of FieldVector; "chunked_array"), Tensor → {@link Tensor} (a read-only view, no copy), Error → {@link
 * ErrorInfo}. A PythonPickle anywhere fails the whole decode ("cannot read a Python-only
 * value of type 'builtins.set' in Java"); malformed objects fail with a message saying what
 * is wrong. Both are {@link CodecException}s.
 */
public final class ObjectDecoder {
  /** A decoded value and every ObjectRef found in it, in the order decoded. */
  public static final class Decoded {
    private final Object value;
    private final List<ObjectRef<?>> refs;
    private final boolean viewsInput;

    Decoded(Object value, List<ObjectRef<?>> refs, boolean viewsInput) {
      this.value = value;
      this.refs = refs;
      this.viewsInput = viewsInput;
    }

    public Object value() {
      return value;
    }

    public List<ObjectRef<?>> refs() {
      return refs;
    }

    /** Whether the value points into the input's memory (a tensor, Arrow data): then the
     * input must outlive it; otherwise the input may be released at once. */
    public boolean viewsInput() {
      return viewsInput;
    }
  }

  private final ByteBuffer object;  // little-endian, position 0 = the object's first byte
  private final Object owner;
  private final long[] bufferOffsets;
  private final long[] bufferLengths;
  private final List<ObjectRef<?>> refs = new ArrayList<>();
  private final RefHolds holds;  // null: the refs decoded carry no host hold
  private boolean viewsInput;

  private ObjectDecoder(ByteBuffer object, Object owner, RefHolds holds, long[] offsets,
                        long[] lengths) {
    this.object = object;
    this.owner = owner;
    this.holds = holds;
    this.bufferOffsets = offsets;
    this.bufferLengths = lengths;
  }

  public static Object decode(byte[] object) {
    return decode(ByteBuffer.wrap(object));
  }

  /** Decodes the object in {@code object}'s remaining bytes (bytes past the object's end
   * are ignored, as a store may round allocations up). */
  public static Object decode(ByteBuffer object) {
    return decodeWithRefs(object, null).value();
  }

  /**
   * Decodes, keeping tensors and Arrow data as views of {@code object}'s memory; {@code
   * owner} (may be null) is held by every such view (the Tensor or Arrow vector, and every
   * ByteBuffer over the memory, {@link Tensor#data()} included), so memory Java does not
   * own (a Python buffer, a store mapping) stays alive while a view is reachable.
   */
  public static Decoded decodeWithRefs(ByteBuffer object, Object owner) {
    return decodeWithRefs(object, owner, null);
  }

  /**
   * {@link #decodeWithRefs(ByteBuffer, Object)} for an object whose refs the host holds for
   * Java, one hold per ref in it: each ref decoded carries one of them ({@link
   * RefHolds#adopt}), given back once the GC has collected the ref and its copies (also
   * when the decode fails part way, for the refs decoded until then).
   */
  public static Decoded decodeWithRefs(ByteBuffer object, Object owner, RefHolds holds) {
    // Every view made below (a tensor's data, an Arrow stream) is a slice of obj, and so
    // holds the owner itself (ForeignMemory), not only through the Tensor or vector.
    ByteBuffer obj = ForeignMemory.withOwner(object, owner).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
    long size = obj.remaining();
    if (size < FormatConstants.HEADER_SIZE) {
      throw reject("object of " + size + " bytes is shorter than the 24-byte header");
    }
    for (int i = 0; i < 4; i++) {
      if (obj.get(i) != FormatConstants.MAGIC[i]) {
        throw reject("bad magic: not a plait object");
      }
    }
    int version = obj.get(FormatConstants.HEADER_VERSION_OFFSET) & 0xff;
    if (version != FormatConstants.VERSION) {
      throw reject("object format version " + version + " is not supported (this reader "
          + "knows version " + FormatConstants.VERSION + ")");
    }
    long payloadLength = obj.getLong(FormatConstants.HEADER_PAYLOAD_LENGTH_OFFSET);
    long count = obj.getLong(FormatConstants.HEADER_BUFFER_COUNT_OFFSET);
    // Unsigned u64s: a negative long is above 2^63, far past any object's end.
    if (count < 0
        || count > (size - FormatConstants.HEADER_SIZE) / FormatConstants.BUFFER_ENTRY_SIZE) {
      throw reject("buffer table of " + Long.toUnsignedString(count)
          + " entries runs past the object's end (" + size + " bytes)");
    }
    long payloadStart =
        FormatConstants.HEADER_SIZE + (long) FormatConstants.BUFFER_ENTRY_SIZE * count;
    if (payloadLength < 0 || payloadLength > size - payloadStart) {
      throw reject("payload of " + Long.toUnsignedString(payloadLength)
          + " bytes runs past the object's end (" + size + " bytes)");
    }
    long[] offsets = new long[(int) count];
    long[] lengths = new long[(int) count];
    for (int i = 0; i < count; i++) {
      int entry = FormatConstants.HEADER_SIZE + FormatConstants.BUFFER_ENTRY_SIZE * i;
      long off = obj.getLong(entry);
      long len = obj.getLong(entry + 8);
      if (off < 0 || len < 0 || off > size || len > size - off) {
        throw reject("buffer " + i + " (offset " + Long.toUnsignedString(off) + ", length "
            + Long.toUnsignedString(len) + ") runs past the object's end (" + size
            + " bytes)");
      }
      offsets[i] = off;
      lengths[i] = len;
    }
    ObjectDecoder d = new ObjectDecoder(obj, owner, holds, offsets, lengths);
    byte[] payload = new byte[(int) payloadLength];  // the payload is small: buffers aren't
    obj.get((int) payloadStart, payload);
    Object value = d.readAll(payload, "payload");
    return new Decoded(value, List.copyOf(d.refs), d.viewsInput);
  }

  static CodecException reject(String why) {
    return new CodecException("malformed plait object: " + why);
  }

  private static final MessagePack.UnpackerConfig UNPACKER = new MessagePack.UnpackerConfig()
      .withActionOnMalformedString(CodingErrorAction.REPORT)
      .withActionOnUnmappableString(CodingErrorAction.REPORT);

  private static MessageUnpacker unpacker(byte[] data) {
    return UNPACKER.newUnpacker(data);
  }

  /** Exactly one msgpack value in {@code data}. */
  private Object readAll(byte[] data, String what) {
    try (MessageUnpacker u = unpacker(data)) {
      if (!u.hasNext()) {
        throw reject("empty " + what);
      }
      Object value = read(u, 0);
      if (u.hasNext()) {
        throw reject("bytes left after the " + what + "'s value");
      }
      return value;
    } catch (MessagePackException | IOException e) {
      throw reject("the " + what + " is not well-formed msgpack: " + e.getMessage());
    }
  }

  private Object read(MessageUnpacker u, int depth) throws IOException {
    if (depth > ObjectEncoder.MAX_DEPTH) {
      throw reject("nested deeper than " + ObjectEncoder.MAX_DEPTH + " levels");
    }
    MessageFormat f = u.getNextFormat();
    switch (f.getValueType()) {
      case NIL:
        u.unpackNil();
        return null;
      case BOOLEAN:
        return u.unpackBoolean();
      case INTEGER:
        if (f == MessageFormat.UINT64) {
          BigInteger b = u.unpackBigInteger();
          return b.bitLength() <= 63 ? (Object) b.longValue() : b;
        }
        return u.unpackLong();
      case FLOAT:
        return u.unpackDouble();  // float32 (not canonical, but valid) widens
      case STRING:
        return u.unpackString();
      case BINARY:
        return u.readPayload(u.unpackBinaryHeader());
      case ARRAY: {
        int n = u.unpackArrayHeader();
        List<Object> list = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
          list.add(read(u, depth + 1));
        }
        return list;
      }
      case MAP: {
        int n = u.unpackMapHeader();
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          Object key = read(u, depth + 1);
          map.put(key, read(u, depth + 1));
        }
        return map;
      }
      case EXTENSION: {
        ExtensionTypeHeader h = u.unpackExtensionTypeHeader();
        byte[] data = u.readPayload(h.getLength());
        return readExt(h.getType(), data, depth);
      }
      default:
        throw reject("unexpected msgpack format " + f);
    }
  }

  private Object readExt(int code, byte[] data, int depth) throws IOException {
    if (!FormatConstants.EXT_CODES.contains(code)) {
      throw reject("unknown extension type " + code);
    }
    if (code == FormatConstants.EXT_PYTHON_PICKLE) {
      refusePickle(data);
    }
    Object payload;
    try (MessageUnpacker u = unpacker(data)) {
      if (!u.hasNext()) {
        throw reject("empty payload in extension type " + code);
      }
      payload = read(u, depth + 1);
      if (u.hasNext()) {
        throw reject("bytes left after the payload of extension type " + code);
      }
    }
    switch (code) {
      case FormatConstants.EXT_OBJECT_REF:
        return objectRef(payload);
      case FormatConstants.EXT_ACTOR_HANDLE:
        if (!(payload instanceof Map)) {
          throw reject("an ActorHandle's payload must be a map");
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> state = (Map<Object, Object>) payload;
        return BaseActorHandle.fromState(state);
      case FormatConstants.EXT_ARROW:
        return arrow(payload);
      case FormatConstants.EXT_TENSOR:
        return tensor(payload);
      case FormatConstants.EXT_ERROR:
        return error(payload);
      default:  // EXT_TUPLE: read exactly as an array
        if (!(payload instanceof List)) {
          throw reject("a Tuple's payload must be an array");
        }
        return payload;
    }
  }

  /** Reads only element 0 (python_type), so the refusal names the type whatever follows. */
  private static void refusePickle(byte[] data) throws IOException {
    String type = null;
    try (MessageUnpacker u = unpacker(data)) {
      if (u.hasNext() && u.getNextFormat().getValueType() == org.msgpack.value.ValueType.ARRAY
          && u.unpackArrayHeader() >= 1
          && u.getNextFormat().getValueType() == org.msgpack.value.ValueType.STRING) {
        type = u.unpackString();
      }
    } catch (MessagePackException e) {
      type = null;
    }
    if (type == null) {
      throw reject("a PythonPickle's payload must start with the Python type name");
    }
    throw new CodecException("cannot read a Python-only value of type '" + type
        + "' in Java (send a value with a neutral form: None, bool, int, float, str, "
        + "bytes, list, dict, numpy arrays, Arrow data)");
  }

  private static List<?> array(Object payload, int minItems, String what) {
    if (!(payload instanceof List) || ((List<?>) payload).size() < minItems) {
      throw reject(what + "'s payload must be an array of " + minItems + " items");
    }
    return (List<?>) payload;
  }

  private ObjectRef<Object> objectRef(Object payload) {
    List<?> items = array(payload, 2, "an ObjectRef");
    List<?> owner = items.get(1) instanceof List ? (List<?>) items.get(1) : List.of();
    if (items.size() != 2 || !(items.get(0) instanceof byte[]) || owner.size() != 4
        || !(owner.get(0) instanceof String) || !(owner.get(1) instanceof String)
        || !(owner.get(2) instanceof Long) || (Long) owner.get(2) < 0
        || !(owner.get(3) instanceof byte[])) {
      throw reject("an ObjectRef's payload must be [object_id: bin, [node_id: str, ip: str, "
          + "port: uint, worker_id: bin]]");
    }
    ObjectRef<Object> ref = ObjectRef.untyped((byte[]) items.get(0), new ObjectRef.Owner(
        (String) owner.get(0), (String) owner.get(1), (Long) owner.get(2),
        (byte[]) owner.get(3)));
    if (holds != null) {
      ref = holds.adopt(ref);
    }
    refs.add(ref);
    return ref;
  }

  private ByteBuffer buffer(Object index, String what) {
    if (!(index instanceof Long) || (Long) index < 0 || (Long) index >= bufferOffsets.length) {
      throw reject(what + " names buffer " + index + " but the object has "
          + bufferOffsets.length);
    }
    int i = (int) (long) (Long) index;
    ByteBuffer b = object.duplicate();
    b.position((int) bufferOffsets[i]).limit((int) (bufferOffsets[i] + bufferLengths[i]));
    return b.slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  private Tensor tensor(Object payload) {
    List<?> items = array(payload, 3, "a Tensor");
    if (items.size() != 3 || !(items.get(0) instanceof String) || !(items.get(1) instanceof List)) {
      throw reject("a Tensor's payload must be [dtype: str, shape: [uint...], buffer: uint]");
    }
    String dtype = (String) items.get(0);
    Integer itemsize = Tensor.ITEMSIZE.get(dtype);
    if (itemsize == null) {
      throw reject("unknown tensor dtype '" + dtype + "'");
    }
    List<?> dims = (List<?>) items.get(1);
    long[] shape = new long[dims.size()];
    long bytes = itemsize;
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long) || (Long) dims.get(i) < 0) {
        throw reject("a tensor dimension must be a uint, got " + dims.get(i));
      }
      shape[i] = (Long) dims.get(i);
      try {
        bytes = Math.multiplyExact(bytes, shape[i]);
      } catch (ArithmeticException e) {
        throw reject("tensor shape " + dims + " is too large");
      }
    }
    ByteBuffer data = buffer(items.get(2), "a Tensor");
    if (data.remaining() != bytes) {
      throw reject("a " + dtype + " tensor of shape " + dims + " needs " + bytes
          + " bytes, its buffer has " + data.remaining());
    }
    viewsInput = true;
    return new Tensor(dtype, shape, data.asReadOnlyBuffer(), owner);
  }

  private Object arrow(Object payload) {
    List<?> items = array(payload, 2, "an Arrow value");
    if (items.size() != 2 || !(items.get(0) instanceof String)) {
      throw reject("an Arrow value's payload must be [kind: str, buffer: uint]");
    }
    String kind = (String) items.get(0);
    ByteBuffer stream = buffer(items.get(1), "an Arrow value");
    viewsInput = true;
    return ArrowIpc.read(kind, stream, owner);
  }

  private static ErrorInfo error(Object payload) {
    List<?> items = array(payload, 6, "an Error");
    for (int i = 0; i < 4; i++) {
      if (!(items.get(i) instanceof String)) {
        throw reject("an Error's first four items must be str (type_name, message, "
            + "language, stack)");
      }
    }
    Object cause = items.get(4);
    Object pickle = items.get(5);
    if (cause != null && !(cause instanceof ErrorInfo)) {
      throw reject("an Error's cause must be nil or an Error");
    }
    if (pickle != null && !(pickle instanceof byte[])) {
      throw reject("an Error's python_pickle must be nil or bin");
    }
    return new ErrorInfo((String) items.get(0), (String) items.get(1), (String) items.get(2),
        (String) items.get(3), (ErrorInfo) cause, (byte[]) pickle);
  }
}
