#include "plait/native/buffer_ops.h"

#include <cstring>
#include <string>

namespace plait::native {

Status CopyBuffer(const std::uint8_t* src, std::size_t src_size, std::uint8_t* dst,
                  std::size_t dst_size) {
  if (src_size != dst_size) {
    return Status::Invalid("size mismatch: source is " + std::to_string(src_size) +
                           " bytes, destination is " + std::to_string(dst_size) +
                           " bytes");
  }
  if (src_size == 0) {
    // Zero-length buffers may carry null pointers, which memmove must not receive.
    return Status::OK();
  }
  if (src == nullptr || dst == nullptr) {
    return Status::Invalid("null buffer pointer with non-zero size");
  }
  std::memmove(dst, src, src_size);
  return Status::OK();
}

}  // namespace plait::native
