#include "cluster/message.h"

#include <string_view>
#include <utility>

namespace starling::cluster {
namespace {

// Smallest encodings, used to bound counts by the bytes left before allocating.
constexpr std::size_t kMinUpdateBytes = 4;   // kind, name(1+1), one more field
constexpr std::size_t kMinRecordBytes = 16;  // name, addr, incarnation, instance(8), 3 bytes

void PutFixed64(std::uint64_t value, std::vector<std::uint8_t>* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void PutString(std::string_view s, std::vector<std::uint8_t>* out) {
  PutVarint(s.size(), out);
  out->insert(out->end(), s.begin(), s.end());
}

void PutByte(std::uint8_t b, std::vector<std::uint8_t>* out) { out->push_back(b); }

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t left() const { return bytes_.size() - pos_; }

  base::Status Byte(std::uint8_t* out, const char* what) {
    if (left() < 1) return Truncated(what);
    *out = bytes_[pos_++];
    return base::Status::Ok();
  }

  base::Status Varint(std::uint64_t* out, const char* what) {
    std::uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (left() < 1) return Truncated(what);
      const std::uint8_t b = bytes_[pos_++];
      if (i == 9 && b > 1) return Error(what, "varint overflows 64 bits");
      value |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) return Error(what, "varint is not in its shortest form");
        *out = value;
        return base::Status::Ok();
      }
    }
    return Error(what, "varint longer than 10 bytes");
  }

  base::Status Fixed64(std::uint64_t* out, const char* what) {
    if (left() < 8) return Truncated(what);
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(bytes_[pos_ + i]) << (8 * i);
    pos_ += 8;
    *out = value;
    return base::Status::Ok();
  }

  base::Status String(std::string* out, const char* what, bool non_empty) {
    std::uint64_t len = 0;
    RETURN_IF_ERROR(Varint(&len, what));
    if (len > kMaxWireStringBytes) {
      return Error(what, "length " + std::to_string(len) + " exceeds the limit of " +
                             std::to_string(kMaxWireStringBytes));
    }
    if (len > left()) return Truncated(what);
    if (non_empty && len == 0) return Error(what, "is empty");
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return base::Status::Ok();
  }

  base::Status Bool(bool* out, const char* what) {
    std::uint8_t b = 0;
    RETURN_IF_ERROR(Byte(&b, what));
    if (b > 1) return Error(what, "is not 0 or 1");
    *out = b == 1;
    return base::Status::Ok();
  }

  template <typename Enum>
  base::Status EnumByte(Enum* out, std::uint8_t min, std::uint8_t max, const char* what) {
    std::uint8_t b = 0;
    RETURN_IF_ERROR(Byte(&b, what));
    if (b < min || b > max) return Error(what, "value " + std::to_string(b) + " is out of range");
    *out = static_cast<Enum>(b);
    return base::Status::Ok();
  }

  // A count of items that take at least `min_item_bytes` each.
  base::Status Count(std::size_t* out, std::size_t limit, std::size_t min_item_bytes,
                     const char* what) {
    std::uint64_t n = 0;
    RETURN_IF_ERROR(Varint(&n, what));
    if (n > limit) {
      return Error(what, std::to_string(n) + " exceeds the limit of " + std::to_string(limit));
    }
    if (n > left() / min_item_bytes) return Truncated(what);
    *out = static_cast<std::size_t>(n);
    return base::Status::Ok();
  }

  base::Status Error(const char* what, const std::string& why) const {
    return base::Status::InvalidArgument("malformed membership message: " + std::string(what) +
                                         " " + why + " (at byte " + std::to_string(pos_) + ")");
  }
  base::Status Truncated(const char* what) const { return Error(what, "is truncated"); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

base::Status DecodeUpdate(Reader& r, Update* u) {
  RETURN_IF_ERROR(r.EnumByte(&u->kind, 1, kMaxUpdateKind, "update kind"));
  RETURN_IF_ERROR(r.String(&u->name, "update name", true));
  switch (u->kind) {
    case UpdateKind::kAlive:
      RETURN_IF_ERROR(r.String(&u->addr, "alive address", true));
      RETURN_IF_ERROR(r.Varint(&u->incarnation, "alive incarnation"));
      return r.Fixed64(&u->instance_id, "alive instance id");
    case UpdateKind::kSuspect:
    case UpdateKind::kDead:
      RETURN_IF_ERROR(r.Varint(&u->incarnation, "suspect/dead incarnation"));
      return r.String(&u->from, "suspect/dead origin", true);
    case UpdateKind::kState:
      RETURN_IF_ERROR(r.EnumByte(&u->state, 0, 2, "node state"));
      return r.Varint(&u->lamport, "state lamport time");
  }
  return r.Error("update kind", "is unknown");
}

base::Status DecodeRecord(Reader& r, MemberRecord* m) {
  RETURN_IF_ERROR(r.String(&m->name, "member name", true));
  RETURN_IF_ERROR(r.String(&m->addr, "member address", true));
  RETURN_IF_ERROR(r.Varint(&m->incarnation, "member incarnation"));
  RETURN_IF_ERROR(r.Fixed64(&m->instance_id, "member instance id"));
  RETURN_IF_ERROR(r.EnumByte(&m->liveness, 0, 3, "member liveness"));
  RETURN_IF_ERROR(r.EnumByte(&m->state, 0, 2, "member state"));
  return r.Varint(&m->state_lamport, "member state lamport time");
}

void EncodeRecord(const MemberRecord& m, std::vector<std::uint8_t>* out) {
  PutString(m.name, out);
  PutString(m.addr, out);
  PutVarint(m.incarnation, out);
  PutFixed64(m.instance_id, out);
  PutByte(static_cast<std::uint8_t>(m.liveness), out);
  PutByte(static_cast<std::uint8_t>(m.state), out);
  PutVarint(m.state_lamport, out);
}

base::Status DecodeInto(std::span<const std::uint8_t> bytes, Message* m) {
  if (bytes.size() > kMaxWireMessageBytes) {
    return base::Status::InvalidArgument(
        "malformed membership message: " + std::to_string(bytes.size()) +
        " bytes exceed the size limit");
  }
  Reader r(bytes);
  std::uint8_t version = 0;
  RETURN_IF_ERROR(r.Byte(&version, "version"));
  if (version != kWireVersion) return r.Error("version byte", "is not a supported version");
  Envelope& e = m->envelope;
  RETURN_IF_ERROR(r.String(&e.cluster, "cluster name", false));
  RETURN_IF_ERROR(r.String(&e.sender_name, "sender name", true));
  RETURN_IF_ERROR(r.Fixed64(&e.sender_instance, "sender instance id"));
  RETURN_IF_ERROR(r.String(&e.sender_addr, "sender address", true));
  RETURN_IF_ERROR(r.Varint(&e.sender_incarnation, "sender incarnation"));
  RETURN_IF_ERROR(r.Varint(&e.lamport, "sender lamport time"));
  RETURN_IF_ERROR(r.Varint(&e.peer_state_lamport, "peer state lamport time"));
  RETURN_IF_ERROR(r.EnumByte(&m->kind, 1, kMaxMessageKind, "message kind"));
  switch (m->kind) {
    case MessageKind::kPing:
      RETURN_IF_ERROR(r.Varint(&m->seq, "ping sequence number"));
      RETURN_IF_ERROR(r.String(&m->target_name, "ping target", false));
      break;
    case MessageKind::kIndirectPing:
      RETURN_IF_ERROR(r.Varint(&m->seq, "indirect ping sequence number"));
      RETURN_IF_ERROR(r.String(&m->target_name, "indirect ping target", true));
      RETURN_IF_ERROR(r.String(&m->target_addr, "indirect ping address", true));
      break;
    case MessageKind::kAck:
    case MessageKind::kNack:
      RETURN_IF_ERROR(r.Varint(&m->seq, "ack sequence number"));
      break;
    case MessageKind::kPushPullRequest:
    case MessageKind::kPushPullResponse: {
      if (m->kind == MessageKind::kPushPullRequest) RETURN_IF_ERROR(r.Bool(&m->join, "join flag"));
      std::size_t n = 0;
      RETURN_IF_ERROR(r.Count(&n, kMaxWireMembers, kMinRecordBytes, "member count"));
      m->members.resize(n);
      for (MemberRecord& rec : m->members) RETURN_IF_ERROR(DecodeRecord(r, &rec));
      break;
    }
    case MessageKind::kJoinRefusal:
      RETURN_IF_ERROR(r.String(&m->target_name, "refused name", true));
      RETURN_IF_ERROR(r.String(&m->target_addr, "refused address", true));
      RETURN_IF_ERROR(r.String(&m->existing_addr, "existing address", true));
      break;
    case MessageKind::kGossip:
      break;
  }
  std::size_t n = 0;
  RETURN_IF_ERROR(r.Count(&n, kMaxWireUpdates, kMinUpdateBytes, "update count"));
  m->updates.resize(n);
  for (Update& u : m->updates) RETURN_IF_ERROR(DecodeUpdate(r, &u));
  if (r.left() != 0) return r.Error("message", "has trailing bytes");
  return base::Status::Ok();
}

}  // namespace

void PutVarint(std::uint64_t value, std::vector<std::uint8_t>* out) {
  base::AppendUvarint(value, out);
}

void EncodeUpdate(const Update& u, std::vector<std::uint8_t>* out) {
  PutByte(static_cast<std::uint8_t>(u.kind), out);
  PutString(u.name, out);
  switch (u.kind) {
    case UpdateKind::kAlive:
      PutString(u.addr, out);
      PutVarint(u.incarnation, out);
      PutFixed64(u.instance_id, out);
      break;
    case UpdateKind::kSuspect:
    case UpdateKind::kDead:
      PutVarint(u.incarnation, out);
      PutString(u.from, out);
      break;
    case UpdateKind::kState:
      PutByte(static_cast<std::uint8_t>(u.state), out);
      PutVarint(u.lamport, out);
      break;
  }
}

void EncodeMessageHead(const Message& m, std::vector<std::uint8_t>* out) {
  PutByte(kWireVersion, out);
  const Envelope& e = m.envelope;
  PutString(e.cluster, out);
  PutString(e.sender_name, out);
  PutFixed64(e.sender_instance, out);
  PutString(e.sender_addr, out);
  PutVarint(e.sender_incarnation, out);
  PutVarint(e.lamport, out);
  PutVarint(e.peer_state_lamport, out);
  PutByte(static_cast<std::uint8_t>(m.kind), out);
  switch (m.kind) {
    case MessageKind::kPing:
      PutVarint(m.seq, out);
      PutString(m.target_name, out);
      break;
    case MessageKind::kIndirectPing:
      PutVarint(m.seq, out);
      PutString(m.target_name, out);
      PutString(m.target_addr, out);
      break;
    case MessageKind::kAck:
    case MessageKind::kNack:
      PutVarint(m.seq, out);
      break;
    case MessageKind::kPushPullRequest:
    case MessageKind::kPushPullResponse:
      if (m.kind == MessageKind::kPushPullRequest) PutByte(m.join ? 1 : 0, out);
      PutVarint(m.members.size(), out);
      for (const MemberRecord& rec : m.members) EncodeRecord(rec, out);
      break;
    case MessageKind::kJoinRefusal:
      PutString(m.target_name, out);
      PutString(m.target_addr, out);
      PutString(m.existing_addr, out);
      break;
    case MessageKind::kGossip:
      break;
  }
}

void EncodeMessage(const Message& m, std::vector<std::uint8_t>* out) {
  EncodeMessageHead(m, out);
  PutVarint(m.updates.size(), out);
  for (const Update& u : m.updates) EncodeUpdate(u, out);
}

base::Result<Message> DecodeMessage(std::span<const std::uint8_t> bytes) {
  Message m;
  RETURN_IF_ERROR(DecodeInto(bytes, &m));
  return m;
}

}  // namespace starling::cluster
