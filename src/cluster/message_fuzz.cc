// Fuzzes DecodeMessage: nothing may crash or allocate without bound, and whatever decodes must
// re-encode to the very same bytes (decoding is strict) and decode again to an equal message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "cluster/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using starling::cluster::DecodeMessage;
  using starling::cluster::EncodeMessage;
  using starling::cluster::Message;
  starling::base::Result<Message> decoded =
      DecodeMessage(std::span<const std::uint8_t>(data, size));
  if (!decoded.ok()) return 0;
  std::vector<std::uint8_t> bytes;
  EncodeMessage(*decoded, &bytes);
  if (bytes.size() != size || !std::equal(bytes.begin(), bytes.end(), data)) std::abort();
  starling::base::Result<Message> again = DecodeMessage(bytes);
  if (!again.ok() || !(*again == *decoded)) std::abort();
  return 0;
}
