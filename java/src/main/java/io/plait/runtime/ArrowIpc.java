package io.plait.runtime;

import io.plait.ChunkedArray;
import io.plait.RecordBatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ForeignAllocation;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.VectorSchemaRootAppender;

/**
 * Arrow IPC streams in out-of-band buffers (the Arrow ext, code 3).
 *
 * <p>Reading is zero-copy when the stream sits in a direct ByteBuffer (an argument handed
 * over by Python, a view of the shared-memory store): the stream's memory is wrapped as one
 * foreign ArrowBuf and every vector buffer is a slice of it, so the data is not copied.
 * The foreign allocation holds the buffer's owner until the last vector using it is closed.
 * A heap ByteBuffer is copied once into Arrow memory first. A "table" of several batches
 * is concatenated into one VectorSchemaRoot, which copies (one batch: no copy).
 * Dictionary-encoded columns are not supported yet (refused with a message).
 *
 * <p>Writing serializes the vectors into a new byte array (one copy).
 */
public final class ArrowIpc {
  /** All Arrow memory the codec hands out; vectors are closed by their users. */
  static final BufferAllocator ALLOCATOR = new RootAllocator();

  private ArrowIpc() {}

  /** The allocator decoded Arrow data lives in (for building vectors to send). */
  public static BufferAllocator allocator() {
    return ALLOCATOR;
  }

  static byte[] write(VectorSchemaRoot root) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      writer.writeBatch();
      writer.end();
    } catch (IOException e) {
      throw new CodecException("could not write Arrow data: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  static byte[] write(FieldVector vector) {
    return write(column(vector));  // not closed: closing it would close the caller's vector
  }

  /** One column named "" (the format's rule for arrays), without copying the vector. */
  private static VectorSchemaRoot column(FieldVector vector) {
    Field f = vector.getField();
    Field renamed = new Field("", f.getFieldType(), f.getChildren());
    return new VectorSchemaRoot(List.of(renamed), List.of(vector), vector.getValueCount());
  }

  /** A chunked array: one column, one record batch per chunk (the chunks share a type). */
  static byte[] write(ChunkedArray chunks, Field type) {
    Schema schema = new Schema(List.of(new Field("", type.getFieldType(), type.getChildren())));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      WriteChannel channel = new WriteChannel(Channels.newChannel(out));
      MessageSerializer.serialize(channel, schema);
      for (FieldVector chunk : chunks) {
        try (ArrowRecordBatch batch = new VectorUnloader(column(chunk)).getRecordBatch()) {
          MessageSerializer.serialize(channel, batch);
        }
      }
      ArrowStreamWriter.writeEndOfStream(channel, IpcOption.DEFAULT);
    } catch (IOException e) {
      throw new CodecException("could not write Arrow data: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** A ReadableByteChannel over a ByteBuffer whose position says how far we have read. */
  private static final class BufferChannel implements ReadableByteChannel {
    final ByteBuffer source;

    BufferChannel(ByteBuffer source) {
      this.source = source;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (!source.hasRemaining()) {
        return -1;
      }
      int n = Math.min(dst.remaining(), source.remaining());
      ByteBuffer chunk = source.duplicate();
      chunk.limit(chunk.position() + n);
      dst.put(chunk);
      source.position(source.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Keeps a direct buffer (and the owner of its memory) alive while Arrow uses it. */
  private static final class Wrapped extends ForeignAllocation {
    private ByteBuffer buffer;
    private Object owner;

    Wrapped(ByteBuffer buffer, Object owner) {
      super(buffer.capacity(), MemoryUtil.getByteBufferAddress(buffer));
      this.buffer = buffer;
      this.owner = owner;
    }

    @Override
    protected void release0() {
      buffer = null;
      owner = null;
    }
  }

  static Object read(String kind, ByteBuffer stream, Object owner) {
    if (!FormatConstants.ARROW_KINDS.contains(kind)) {
      throw ObjectDecoder.reject("unknown Arrow kind '" + kind + "'");
    }
    ArrowBuf whole = wrap(stream, owner);
    List<VectorSchemaRoot> batches = new ArrayList<>();
    try {
      Schema schema;
      BufferChannel channel = new BufferChannel(stream.duplicate());
      ReadChannel in = new ReadChannel(channel);
      MessageMetadataResult first = MessageSerializer.readMessage(in);
      if (first == null || first.headerType() != MessageHeader.Schema) {
        throw ObjectDecoder.reject("an Arrow stream must start with a schema message");
      }
      schema = MessageSerializer.deserializeSchema(first);
      for (Field f : schema.getFields()) {
        checkNoDictionary(f);
      }
      while (true) {
        MessageMetadataResult msg = MessageSerializer.readMessage(in);
        if (msg == null) {
          break;  // end-of-stream marker (or the end of the bytes)
        }
        if (msg.headerType() != MessageHeader.RecordBatch) {
          throw ObjectDecoder.reject("unsupported Arrow message type " + msg.headerType()
              + " (dictionary batches are not supported in Java yet)");
        }
        long bodyLength = msg.getMessageBodyLength();
        long start = channel.source.position();
        if (bodyLength < 0 || bodyLength > channel.source.remaining()) {
          throw ObjectDecoder.reject("Arrow record batch body runs past the stream's end");
        }
        ArrowBuf body = whole.slice(start, bodyLength);
        channel.source.position((int) (start + bodyLength));
        // deserializeRecordBatch releases one reference to the body when done (it expects
        // a body read just for it); ours is shared, so take one for it first.
        body.getReferenceManager().retain();
        try (ArrowRecordBatch batch = MessageSerializer.deserializeRecordBatch(msg, body)) {
          VectorSchemaRoot root = VectorSchemaRoot.create(schema, ALLOCATOR);
          batches.add(root);
          new VectorLoader(root).load(batch);
        }
      }
      return assemble(kind, schema, batches);
    } catch (IOException | RuntimeException e) {
      for (VectorSchemaRoot r : batches) {
        r.close();
      }
      if (e instanceof CodecException) {
        throw (CodecException) e;
      }
      throw ObjectDecoder.reject("bad Arrow IPC stream: " + e);
    } finally {
      whole.close();  // the vectors hold their own references to the memory
    }
  }

  private static ArrowBuf wrap(ByteBuffer stream, Object owner) {
    if (stream.isDirect()) {
      ByteBuffer exact = stream.slice();
      return ALLOCATOR.wrapForeignAllocation(new Wrapped(exact, owner));
    }
    ArrowBuf copy = ALLOCATOR.buffer(stream.remaining());
    copy.setBytes(0, stream.duplicate());
    return copy;
  }

  private static void checkNoDictionary(Field f) {
    if (f.getDictionary() != null) {
      throw new CodecException("Arrow column '" + f.getName() + "' is dictionary-encoded, "
          + "which plait's Java reader does not support yet (decode it to plain values first)");
    }
    for (Field child : f.getChildren()) {
      checkNoDictionary(child);
    }
  }

  private static Object assemble(String kind, Schema schema, List<VectorSchemaRoot> batches) {
    switch (kind) {
      case FormatConstants.ARROW_RECORD_BATCH:
        if (batches.size() != 1) {
          throw ObjectDecoder.reject("an Arrow record_batch stream must hold exactly one "
              + "batch, it holds " + batches.size());
        }
        return new RecordBatch(batches.get(0));
      case FormatConstants.ARROW_ARRAY:
        if (batches.size() != 1 || schema.getFields().size() != 1) {
          throw ObjectDecoder.reject("an Arrow array stream must hold one batch of one "
              + "column");
        }
        return batches.get(0).getVector(0);
      case FormatConstants.ARROW_CHUNKED_ARRAY: {
        if (schema.getFields().size() != 1) {
          throw ObjectDecoder.reject("an Arrow chunked_array stream must hold one column");
        }
        List<FieldVector> chunks = new ArrayList<>();
        for (VectorSchemaRoot r : batches) {
          chunks.add(r.getVector(0));
        }
        return new ChunkedArray(schema.getFields().get(0), chunks);
      }
      default: {  // table
        if (batches.isEmpty()) {
          return VectorSchemaRoot.create(schema, ALLOCATOR);
        }
        if (batches.size() == 1) {
          return batches.get(0);
        }
        VectorSchemaRoot all = VectorSchemaRoot.create(schema, ALLOCATOR);
        VectorSchemaRootAppender.append(all, batches.toArray(new VectorSchemaRoot[0]));
        for (VectorSchemaRoot r : batches) {
          r.close();
        }
        return all;
      }
    }
  }
}
