package io.plait;

import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * An Arrow record batch (the object format's Arrow kind "record_batch"): a {@link
 * VectorSchemaRoot} that the codec writes as "record_batch" rather than "table", so a batch
 * received from Python or C++ goes back as a batch. Decoding a "record_batch" gives one.
 */
public final class RecordBatch extends VectorSchemaRoot {
  /** A batch over root's vectors (not copied: closing either closes them). */
  public RecordBatch(VectorSchemaRoot root) {
    super(root.getSchema(), root.getFieldVectors(), root.getRowCount());
  }
}
