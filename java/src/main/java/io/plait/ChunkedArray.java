package io.plait;

import java.util.AbstractList;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * An Arrow chunked array (the object format's Arrow kind "chunked_array"): one column as a
 * list of chunks of one type. Decoding a "chunked_array" gives one; encoding one writes a
 * "chunked_array" (a plain List of vectors is written as an array of Arrow arrays). Closing
 * it closes the chunks.
 */
public final class ChunkedArray extends AbstractList<FieldVector> implements AutoCloseable {
  private final Field field;
  private final List<FieldVector> chunks;

  /** The chunks (not copied); there must be at least one, to give the column's type. */
  public ChunkedArray(List<? extends FieldVector> chunks) {
    this(firstField(chunks), chunks);
  }

  /** Chunks of the column {@code field} describes (its type; the name is not kept). */
  public ChunkedArray(Field field, List<? extends FieldVector> chunks) {
    this.field = field;
    this.chunks = List.copyOf(chunks);
  }

  private static Field firstField(List<? extends FieldVector> chunks) {
    if (chunks.isEmpty()) {
      throw new IllegalArgumentException("a ChunkedArray without chunks needs its Field");
    }
    return chunks.get(0).getField();
  }

  /** The column's type (and children, for nested types). */
  public Field field() {
    return field;
  }

  @Override
  public FieldVector get(int index) {
    return chunks.get(index);
  }

  @Override
  public int size() {
    return chunks.size();
  }

  @Override
  public void close() {
    for (FieldVector v : chunks) {
      v.close();
    }
  }
}
