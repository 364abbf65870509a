#include "plait/codec/msgpack.h"

#include <cstring>

namespace plait::msgpack {

void Writer::PutBE(std::uint64_t v, int bytes) {
  char out[8];
  for (int k = 0; k < bytes; ++k) {
    out[k] = static_cast<char>((v >> (8 * (bytes - 1 - k))) & 0xff);
  }
  buffer_.append(out, static_cast<std::size_t>(bytes));
}

void Writer::UInt(std::uint64_t v) {
  if (v < 128) {
    Put(static_cast<std::uint8_t>(v));
  } else if (v <= 0xff) {
    Put(0xcc);
    PutBE(v, 1);
  } else if (v <= 0xffff) {
    Put(0xcd);
    PutBE(v, 2);
  } else if (v <= 0xffffffffULL) {
    Put(0xce);
    PutBE(v, 4);
  } else {
    Put(0xcf);
    PutBE(v, 8);
  }
}

void Writer::Int(std::int64_t v) {
  if (v >= 0) {
    UInt(static_cast<std::uint64_t>(v));
  } else if (v >= -32) {
    Put(static_cast<std::uint8_t>(v));  // negative fixint: the two's complement byte
  } else if (v >= INT8_MIN) {
    Put(0xd0);
    PutBE(static_cast<std::uint64_t>(v), 1);
  } else if (v >= INT16_MIN) {
    Put(0xd1);
    PutBE(static_cast<std::uint64_t>(v), 2);
  } else if (v >= INT32_MIN) {
    Put(0xd2);
    PutBE(static_cast<std::uint64_t>(v), 4);
  } else {
    Put(0xd3);
    PutBE(static_cast<std::uint64_t>(v), 8);
  }
}

void Writer::Double(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  Put(0xcb);
  PutBE(bits, 8);
}

void Writer::Str(std::string_view s) {
  std::size_t n = s.size();
  if (n < 32) {
    Put(static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xff) {
    Put(0xd9);
    PutBE(n, 1);
  } else if (n <= 0xffff) {
    Put(0xda);
    PutBE(n, 2);
  } else {
    Put(0xdb);
    PutBE(n, 4);
  }
  buffer_.append(s.data(), n);
}

void Writer::Bin(const std::uint8_t* data, std::size_t n) {
  if (n <= 0xff) {
    Put(0xc4);
    PutBE(n, 1);
  } else if (n <= 0xffff) {
    Put(0xc5);
    PutBE(n, 2);
  } else {
    Put(0xc6);
    PutBE(n, 4);
  }
  if (n > 0) buffer_.append(reinterpret_cast<const char*>(data), n);
}

void Writer::ArrayHeader(std::uint32_t n) {
  if (n < 16) {
    Put(static_cast<std::uint8_t>(0x90 | n));
  } else if (n <= 0xffff) {
    Put(0xdc);
    PutBE(n, 2);
  } else {
    Put(0xdd);
    PutBE(n, 4);
  }
}

void Writer::MapHeader(std::uint32_t n) {
  if (n < 16) {
    Put(static_cast<std::uint8_t>(0x80 | n));
  } else if (n <= 0xffff) {
    Put(0xde);
    PutBE(n, 2);
  } else {
    Put(0xdf);
    PutBE(n, 4);
  }
}

void Writer::ExtHeader(std::int8_t type, std::uint32_t n) {
  switch (n) {
    case 1: Put(0xd4); break;
    case 2: Put(0xd5); break;
    case 4: Put(0xd6); break;
    case 8: Put(0xd7); break;
    case 16: Put(0xd8); break;
    default:
      if (n <= 0xff) {
        Put(0xc7);
        PutBE(n, 1);
      } else if (n <= 0xffff) {
        Put(0xc8);
        PutBE(n, 2);
      } else {
        Put(0xc9);
        PutBE(n, 4);
      }
  }
  Put(static_cast<std::uint8_t>(type));
}

// --- Reader ---------------------------------------------------------------------------

Status Reader::Take(std::size_t n, const std::uint8_t** out) {
  if (remaining() < n) {
    return Status::Invalid("msgpack payload is truncated (needs " + std::to_string(n) +
                           " more bytes, has " + std::to_string(remaining()) + ")");
  }
  *out = data_;
  data_ += n;
  return Status::OK();
}

Status Reader::ReadBE(int bytes, std::uint64_t* out) {
  const std::uint8_t* p;
  PLAIT_RETURN_NOT_OK(Take(static_cast<std::size_t>(bytes), &p));
  std::uint64_t v = 0;
  for (int k = 0; k < bytes; ++k) v = (v << 8) | p[k];
  *out = v;
  return Status::OK();
}

Status Reader::Span(std::size_t n, Item* out) {
  out->size = n;
  return Take(n, &out->data);
}

Status Reader::Next(Item* out) {
  *out = Item();
  const std::uint8_t* p;
  PLAIT_RETURN_NOT_OK(Take(1, &p));
  const std::uint8_t tag = *p;
  std::uint64_t v = 0;
  using T = Item::Type;
  auto sized = [&](T type, int len_bytes) -> Status {
    out->type = type;
    PLAIT_RETURN_NOT_OK(ReadBE(len_bytes, &v));
    if (type == T::kArray || type == T::kMap) {
      out->size = static_cast<std::size_t>(v);
      return Status::OK();
    }
    return Span(static_cast<std::size_t>(v), out);
  };
  auto ext = [&](std::size_t n) -> Status {
    out->type = T::kExt;
    const std::uint8_t* t;
    PLAIT_RETURN_NOT_OK(Take(1, &t));
    out->ext_type = static_cast<std::int8_t>(*t);
    return Span(n, out);
  };
  if (tag <= 0x7f) {
    out->type = T::kUInt;
    out->u = tag;
    return Status::OK();
  }
  if (tag >= 0xe0) {
    out->type = T::kInt;
    out->i = static_cast<std::int8_t>(tag);
    return Status::OK();
  }
  if ((tag & 0xf0) == 0x80) {
    out->type = T::kMap;
    out->size = tag & 0x0f;
    return Status::OK();
  }
  if ((tag & 0xf0) == 0x90) {
    out->type = T::kArray;
    out->size = tag & 0x0f;
    return Status::OK();
  }
  if ((tag & 0xe0) == 0xa0) {
    out->type = T::kStr;
    return Span(tag & 0x1f, out);
  }
  switch (tag) {
    case 0xc0: out->type = T::kNil; return Status::OK();
    case 0xc2: out->type = T::kBool; out->b = false; return Status::OK();
    case 0xc3: out->type = T::kBool; out->b = true; return Status::OK();
    case 0xc4: return sized(T::kBin, 1);
    case 0xc5: return sized(T::kBin, 2);
    case 0xc6: return sized(T::kBin, 4);
    case 0xc7: PLAIT_RETURN_NOT_OK(ReadBE(1, &v)); return ext(static_cast<std::size_t>(v));
    case 0xc8: PLAIT_RETURN_NOT_OK(ReadBE(2, &v)); return ext(static_cast<std::size_t>(v));
    case 0xc9: PLAIT_RETURN_NOT_OK(ReadBE(4, &v)); return ext(static_cast<std::size_t>(v));
    case 0xca: {
      PLAIT_RETURN_NOT_OK(ReadBE(4, &v));
      auto bits = static_cast<std::uint32_t>(v);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      out->type = T::kFloat;
      out->f = f;
      return Status::OK();
    }
    case 0xcb: {
      PLAIT_RETURN_NOT_OK(ReadBE(8, &v));
      out->type = T::kFloat;
      std::memcpy(&out->f, &v, sizeof v);
      return Status::OK();
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
      out->type = T::kUInt;
      return ReadBE(1 << (tag - 0xcc), &out->u);
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      int bytes = 1 << (tag - 0xd0);
      PLAIT_RETURN_NOT_OK(ReadBE(bytes, &v));
      int shift = 64 - 8 * bytes;  // sign-extend
      out->type = T::kInt;
      out->i = static_cast<std::int64_t>(v << shift) >> shift;
      return Status::OK();
    }
    case 0xd4: return ext(1);
    case 0xd5: return ext(2);
    case 0xd6: return ext(4);
    case 0xd7: return ext(8);
    case 0xd8: return ext(16);
    case 0xd9: return sized(T::kStr, 1);
    case 0xda: return sized(T::kStr, 2);
    case 0xdb: return sized(T::kStr, 4);
    case 0xdc: return sized(T::kArray, 2);
    case 0xdd: return sized(T::kArray, 4);
    case 0xde: return sized(T::kMap, 2);
    case 0xdf: return sized(T::kMap, 4);
    default:  // 0xc1 is never used
      return Status::Invalid("invalid msgpack byte 0x" +
                             std::string(1, "0123456789abcdef"[tag >> 4]) +
                             std::string(1, "0123456789abcdef"[tag & 15]));
  }
}

}  // namespace plait::msgpack
