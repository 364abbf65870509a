#include "plait/native/buffer_ops.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace plait::native {
namespace {

TEST(StatusTest, DefaultIsOkWithEmptyMessage) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kOk);
  EXPECT_TRUE(status.message().empty());
}

TEST(StatusTest, InvalidCarriesMessage) {
  Status status = Status::Invalid("bad input");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kInvalid);
  EXPECT_EQ(status.message(), "bad input");
}

TEST(CopyBufferTest, CopiesEveryByteExactly) {
  std::vector<std::uint8_t> src(1 << 20);
  std::iota(src.begin(), src.end(), std::uint8_t{0});
  std::vector<std::uint8_t> dst(src.size(), 0xAB);
  Status status = CopyBuffer(src.data(), src.size(), dst.data(), dst.size());
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(dst, src);
}

TEST(CopyBufferTest, SizeMismatchNamesBothSizesAndLeavesDestinationUntouched) {
  std::vector<std::uint8_t> src(10, 1);
  std::vector<std::uint8_t> dst(12, 7);
  Status status = CopyBuffer(src.data(), src.size(), dst.data(), dst.size());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("10"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("12"), std::string::npos) << status.message();
  EXPECT_EQ(dst, std::vector<std::uint8_t>(12, 7));
}

TEST(CopyBufferTest, ZeroLengthWithNullPointersIsOk) {
  EXPECT_TRUE(CopyBuffer(nullptr, 0, nullptr, 0).ok());
}

TEST(CopyBufferTest, NullPointerWithNonZeroSizeIsInvalid) {
  std::vector<std::uint8_t> dst(4);
  EXPECT_FALSE(CopyBuffer(nullptr, 4, dst.data(), dst.size()).ok());
}

TEST(CopyBufferTest, OverlappingRangesBehaveLikeMemmove) {
  std::vector<std::uint8_t> buf = {0, 1, 2, 3, 4, 5, 6, 7};
  Status status = CopyBuffer(buf.data(), 6, buf.data() + 2, 6);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(buf, (std::vector<std::uint8_t>{0, 1, 0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace plait::native
