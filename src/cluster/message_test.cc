#include "cluster/message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace starling::cluster {
namespace {

Envelope TestEnvelope() {
  Envelope e;
  e.cluster = "prod";
  e.sender_name = "node-a";
  e.sender_instance = 0x0123456789abcdefULL;
  e.sender_addr = "10.0.0.1:12345";
  e.sender_incarnation = 12;
  e.lamport = 300;
  e.peer_state_lamport = 7;
  return e;
}

Update Alive(std::string name, std::string addr, std::uint64_t inc, std::uint64_t instance) {
  Update u;
  u.kind = UpdateKind::kAlive;
  u.name = std::move(name);
  u.addr = std::move(addr);
  u.incarnation = inc;
  u.instance_id = instance;
  return u;
}

Update Accuse(UpdateKind kind, std::string name, std::uint64_t inc, std::string from) {
  Update u;
  u.kind = kind;
  u.name = std::move(name);
  u.incarnation = inc;
  u.from = std::move(from);
  return u;
}

Update State(std::string name, NodeState state, std::uint64_t lamport) {
  Update u;
  u.kind = UpdateKind::kState;
  u.name = std::move(name);
  u.state = state;
  u.lamport = lamport;
  return u;
}

std::vector<std::uint8_t> Encode(const Message& m) {
  std::vector<std::uint8_t> out;
  EncodeMessage(m, &out);
  return out;
}

// One message of every kind, each with a different mix of updates.
std::vector<std::pair<std::string, Message>> SampleMessages() {
  std::vector<std::pair<std::string, Message>> out;
  auto add = [&](std::string name, MessageKind kind) -> Message& {
    Message m;
    m.envelope = TestEnvelope();
    m.kind = kind;
    out.emplace_back(std::move(name), std::move(m));
    return out.back().second;
  };
  add("gossip without updates", MessageKind::kGossip);
  {
    Message& m = add("gossip with every update kind", MessageKind::kGossip);
    m.updates = {Alive("node-b", "10.0.0.2:1", 3, ~std::uint64_t{0}),
                 Accuse(UpdateKind::kSuspect, "node-c", 0, "node-a"),
                 Accuse(UpdateKind::kDead, "node-d", 1ULL << 40, "node-d"),
                 State("node-e", NodeState::kTerminating, 1ULL << 63)};
  }
  {
    Message& m = add("ping", MessageKind::kPing);
    m.seq = 1;
    m.target_name = "node-b";
    m.updates = {State("node-a", NodeState::kParticipant, 5)};
  }
  {
    Message& m = add("ping without target", MessageKind::kPing);
    m.seq = 0;
  }
  {
    Message& m = add("indirect ping", MessageKind::kIndirectPing);
    m.seq = 99999;
    m.target_name = "node-c";
    m.target_addr = "[::1]:80";
  }
  add("ack", MessageKind::kAck).seq = 127;
  add("nack", MessageKind::kNack).seq = 128;
  {
    Message& m = add("push/pull join request", MessageKind::kPushPullRequest);
    m.join = true;
    m.members = {
        {"node-a", "10.0.0.1:1", 0, 1, Liveness::kAlive, NodeState::kViewer, 0},
        {"node-b", "10.0.0.2:1", 4, 2, Liveness::kSuspect, NodeState::kParticipant, 3},
        {"node-c", "10.0.0.3:1", 5, 3, Liveness::kDead, NodeState::kTerminating, 9},
        {"node-d", "10.0.0.4:1", 6, 4, Liveness::kLeft, NodeState::kTerminating, 10},
    };
  }
  {
    Message& m = add("push/pull response", MessageKind::kPushPullResponse);
    m.members = {{"x", "y", 0, 0, Liveness::kAlive, NodeState::kViewer, 0}};
    m.updates = {Alive("z", "w", 0, 0)};
  }
  {
    Message& m = add("join refusal", MessageKind::kJoinRefusal);
    m.target_name = "node-a";
    m.target_addr = "10.0.0.9:1";
    m.existing_addr = "10.0.0.1:1";
  }
  {
    Message& m = add("empty cluster name", MessageKind::kGossip);
    m.envelope.cluster.clear();
  }
  return out;
}

TEST(MessageTest, RoundTrip) {
  for (const auto& [name, message] : SampleMessages()) {
    SCOPED_TRACE(name);
    const std::vector<std::uint8_t> bytes = Encode(message);
    base::Result<Message> decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, message);
    EXPECT_EQ(Encode(*decoded), bytes);
  }
}

TEST(MessageTest, HeadPlusPreEncodedUpdatesEqualsWholeMessage) {
  Message m = SampleMessages()[1].second;
  std::vector<std::uint8_t> split;
  EncodeMessageHead(m, &split);
  PutVarint(m.updates.size(), &split);
  for (const Update& u : m.updates) EncodeUpdate(u, &split);
  EXPECT_EQ(split, Encode(m));
}

TEST(MessageTest, Varints) {
  const std::vector<std::uint64_t> values = {
      0, 1, 127, 128, 16383, 16384, 1ULL << 35, 1ULL << 63, ~std::uint64_t{0}};
  for (std::uint64_t v : values) {
    SCOPED_TRACE(v);
    std::vector<std::uint8_t> out;
    PutVarint(v, &out);
    EXPECT_EQ(out.size(), VarintSize(v));
    // Carried as a sequence number through a whole message.
    Message m;
    m.envelope = TestEnvelope();
    m.kind = MessageKind::kAck;
    m.seq = v;
    base::Result<Message> decoded = DecodeMessage(Encode(m));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->seq, v);
  }
  EXPECT_EQ(VarintSize(~std::uint64_t{0}), 10u);
}

TEST(MessageTest, EveryTruncationIsRefused) {
  for (const auto& [name, message] : SampleMessages()) {
    SCOPED_TRACE(name);
    const std::vector<std::uint8_t> bytes = Encode(message);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
      SCOPED_TRACE(len);
      base::Result<Message> decoded =
          DecodeMessage(std::span<const std::uint8_t>(bytes.data(), len));
      EXPECT_FALSE(decoded.ok());
      EXPECT_EQ(decoded.status().code(), base::StatusCode::kInvalidArgument);
    }
  }
}

// Builds raw bytes for the malformed cases.
struct Raw {
  std::vector<std::uint8_t> b;
  Raw& Byte(std::uint8_t v, int times = 1) {
    b.insert(b.end(), times, v);
    return *this;
  }
  Raw& Var(std::uint64_t v) {
    PutVarint(v, &b);
    return *this;
  }
  Raw& Str(const std::string& s) {
    Var(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& Fixed(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  // A valid envelope.
  Raw& Env() {
    return Byte(kWireVersion).Str("c").Str("n").Fixed(1).Str("a:1").Var(0).Var(0).Var(0);
  }
};

TEST(MessageTest, MalformedInputIsRefused) {
  struct Case {
    std::string name;
    std::vector<std::uint8_t> bytes;
    std::string want;  // substring of the error
  };
  std::vector<Case> cases = {
      {"empty", {}, "version"},
      {"wrong version", Raw().Byte(0xC2).b, "version byte"},
      {"not a membership message", Raw().Byte('{').Byte('}').b, "version byte"},
      {"empty sender name", Raw().Byte(kWireVersion).Str("c").Str("").b, "sender name is empty"},
      {"string longer than the limit", Raw().Byte(kWireVersion).Var(kMaxWireStringBytes + 1).b,
       "exceeds the limit"},
      {"string longer than the message", Raw().Byte(kWireVersion).Var(50).Str("abc").b,
       "truncated"},
      {"varint of 11 bytes", Raw().Env().Byte(3).Byte(0xff, 10).Byte(0x01).b, "overflows"},
      {"varint overflowing 64 bits", Raw().Env().Byte(3).Byte(0xff, 9).Byte(0x02).Var(0).b,
       "overflows"},
      {"varint not in shortest form", Raw().Env().Byte(3).Byte(0x81).Byte(0x00).Var(0).b,
       "shortest"},
      {"unknown message kind", Raw().Env().Byte(0).Var(0).b, "message kind"},
      {"message kind too large", Raw().Env().Byte(9).Var(0).b, "message kind"},
      {"update count over the limit", Raw().Env().Byte(8).Var(kMaxWireUpdates + 1).b,
       "exceeds the limit"},
      {"update count larger than the bytes", Raw().Env().Byte(8).Var(1000).Byte(4).b, "truncated"},
      {"huge member count", Raw().Env().Byte(6).Var(~std::uint64_t{0} >> 1).b, "exceeds the limit"},
      {"member count larger than the bytes", Raw().Env().Byte(6).Var(5000).Var(0).b, "truncated"},
      {"join flag not a boolean", Raw().Env().Byte(5).Byte(2).Var(0).Var(0).b, "join flag"},
      {"member liveness out of range",
       Raw().Env().Byte(6).Var(1).Str("m").Str("a").Var(0).Fixed(0).Byte(4).Byte(0).Var(0).Var(0).b,
       "liveness"},
      {"member state out of range",
       Raw().Env().Byte(6).Var(1).Str("m").Str("a").Var(0).Fixed(0).Byte(0).Byte(3).Var(0).Var(0).b,
       "member state"},
      {"empty member address",
       Raw().Env().Byte(6).Var(1).Str("m").Str("").Var(0).Fixed(0).Byte(0).Byte(0).Var(0).Var(0).b,
       "member address is empty"},
      {"unknown update kind", Raw().Env().Byte(8).Var(1).Byte(5).Str("x").Var(0).Var(0).b,
       "update kind"},
      {"update kind zero", Raw().Env().Byte(8).Var(1).Byte(0).Str("x").Var(0).Var(0).b,
       "update kind"},
      {"node state out of range", Raw().Env().Byte(8).Var(1).Byte(4).Str("x").Byte(3).Var(0).b,
       "node state"},
      {"suspect without origin", Raw().Env().Byte(8).Var(1).Byte(2).Str("x").Var(0).Str("").b,
       "origin is empty"},
      {"empty update name", Raw().Env().Byte(8).Var(1).Byte(1).Str("").Str("a").Var(0).Fixed(0).b,
       "update name is empty"},
      {"alive missing instance",
       Raw().Env().Byte(8).Var(1).Byte(1).Str("x").Str("a").Var(0).Byte(1).Byte(2).Byte(3).b,
       "truncated"},
      {"trailing bytes", Raw().Env().Byte(3).Var(1).Var(0).Byte(0).b, "trailing"},
      {"indirect ping without address", Raw().Env().Byte(2).Var(1).Str("t").Str("").Var(0).b,
       "indirect ping address is empty"},
      {"refusal without existing address", Raw().Env().Byte(7).Str("n").Str("a").Str("").Var(0).b,
       "existing address is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    base::Result<Message> decoded = DecodeMessage(c.bytes);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), base::StatusCode::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find(c.want), std::string::npos)
        << decoded.status().message();
  }
}

TEST(MessageTest, ValidRawMessageDecodes) {
  // The Raw builder itself produces what the encoder produces: guards the malformed cases
  // above against failing for a reason other than the one they name.
  const std::vector<std::uint8_t> bytes =
      Raw().Env().Byte(8).Var(1).Byte(4).Str("x").Byte(2).Var(3).b;
  base::Result<Message> decoded = DecodeMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->updates.size(), 1u);
  EXPECT_EQ(decoded->updates[0], State("x", NodeState::kTerminating, 3));
  EXPECT_EQ(Encode(*decoded), bytes);
}

TEST(MessageTest, SingleByteCorruptionsNeverCrash) {
  // Every value at every position of every sample: decoding either fails cleanly or yields a
  // message that re-encodes to the same bytes.
  for (const auto& [name, message] : SampleMessages()) {
    SCOPED_TRACE(name);
    const std::vector<std::uint8_t> bytes = Encode(message);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int v = 0; v < 256; v += 7) {
        std::vector<std::uint8_t> corrupt = bytes;
        corrupt[i] = static_cast<std::uint8_t>(v);
        base::Result<Message> decoded = DecodeMessage(corrupt);
        if (decoded.ok()) {
          EXPECT_EQ(Encode(*decoded), corrupt) << "byte " << i << " = " << v;
        }
      }
    }
  }
}

}  // namespace
}  // namespace starling::cluster
