#pragma once

// The wire format of the membership protocol: one message per datagram (or HTTP body).
//
//   message  = version envelope kind body update_count update*
//   envelope = cluster sender_name sender_instance sender_addr sender_incarnation lamport
//              peer_state_lamport
//   update   = update_kind fields
//
// Integers are unsigned LEB128 varints (canonical: the shortest encoding), except instance ids,
// which are random and so take a fixed 8 bytes, little-endian. Strings are a varint length and
// the bytes. Enums and booleans are one byte. Nothing follows the last update.
//
// Decoding is strict, because every byte comes from the network: every length and count is
// bounded (and checked against the bytes left before anything is allocated), enums must be in
// range, varints canonical and names non-empty. As a result, what decodes re-encodes to the
// same bytes.
//
// Thread-safety: free functions on values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/varint.h"
#include "cluster/membership.h"

namespace starling::cluster {

// First byte of every message: high nibble marks a membership message, low nibble the version.
inline constexpr std::uint8_t kWireVersion = 0xC1;

// Limits enforced by DecodeMessage.
inline constexpr std::size_t kMaxWireMessageBytes = std::size_t{32} << 20;
inline constexpr std::size_t kMaxWireStringBytes = 1024;
inline constexpr std::size_t kMaxWireUpdates = 8192;
inline constexpr std::size_t kMaxWireMembers = std::size_t{1} << 17;

enum class MessageKind : std::uint8_t {
  kPing = 1,              // seq, target_name: are you alive?
  kIndirectPing = 2,      // seq, target_name, target_addr: ping the target for me
  kAck = 3,               // seq: the ping (or the ping made on my behalf) was answered
  kNack = 4,              // seq: I relayed your ping and the target did not answer
  kPushPullRequest = 5,   // join, members: my full state; answer with yours
  kPushPullResponse = 6,  // members: my full state
  kJoinRefusal = 7,       // target_name, target_addr, existing_addr: that name is taken
  kGossip = 8,            // nothing but updates
};
inline constexpr std::uint8_t kMaxMessageKind = 8;

enum class UpdateKind : std::uint8_t {
  kAlive = 1,    // name, addr, incarnation, instance_id
  kSuspect = 2,  // name, incarnation, from
  kDead = 3,     // name, incarnation, from (from == name: the member left)
  kState = 4,    // name, state, lamport
};
inline constexpr std::uint8_t kMaxUpdateKind = 4;

struct Envelope {
  std::string cluster;
  std::string sender_name;
  std::uint64_t sender_instance = 0;  // random per process start
  std::string sender_addr;
  // The sender's own incarnation: every message doubles as an alive announcement by the one
  // member that is sure of it.
  std::uint64_t sender_incarnation = 0;
  std::uint64_t lamport = 0;  // the sender's Lamport clock
  // The receiver's state Lamport time as the sender knows it (0 when unknown): how a member
  // shows that it has learnt the receiver's current state.
  std::uint64_t peer_state_lamport = 0;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// One piggybacked membership change. Only the fields of `kind` are encoded; the others stay
// at their defaults.
struct Update {
  UpdateKind kind = UpdateKind::kAlive;
  std::string name;
  std::string addr;                      // alive
  std::uint64_t incarnation = 0;         // alive, suspect, dead
  std::uint64_t instance_id = 0;         // alive
  std::string from;                      // suspect, dead: who says so
  NodeState state = NodeState::kViewer;  // state
  std::uint64_t lamport = 0;             // state
  friend bool operator==(const Update&, const Update&) = default;
};

// One member in a push/pull exchange.
struct MemberRecord {
  std::string name;
  std::string addr;
  std::uint64_t incarnation = 0;
  std::uint64_t instance_id = 0;
  Liveness liveness = Liveness::kAlive;
  NodeState state = NodeState::kViewer;
  std::uint64_t state_lamport = 0;
  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

// A decoded message. Only the body fields of `kind` are encoded; the others stay at their
// defaults.
struct Message {
  Envelope envelope;
  MessageKind kind = MessageKind::kGossip;
  std::uint64_t seq = 0;              // ping, indirect ping, ack, nack
  std::string target_name;            // ping (may be empty), indirect ping; refusal: the name
  std::string target_addr;            // indirect ping; refusal: the address refused
  std::string existing_addr;          // refusal: where the live member with that name is
  bool join = false;                  // push/pull request
  std::vector<MemberRecord> members;  // push/pull request and response
  std::vector<Update> updates;
  friend bool operator==(const Message&, const Message&) = default;
};

// Appends the whole message.
void EncodeMessage(const Message& message, std::vector<std::uint8_t>* out);
// Appends everything up to the update count, ignoring message.updates, so that a sender can
// append the count and pre-encoded updates (EncodeUpdate) itself.
void EncodeMessageHead(const Message& message, std::vector<std::uint8_t>* out);
// Appends one update, as it appears in a message.
void EncodeUpdate(const Update& update, std::vector<std::uint8_t>* out);
// Appends a varint; the number of bytes it takes.
void PutVarint(std::uint64_t value, std::vector<std::uint8_t>* out);
using base::VarintSize;

// Decodes a message; InvalidArgument with the reason for anything malformed.
base::Result<Message> DecodeMessage(std::span<const std::uint8_t> bytes);

}  // namespace starling::cluster
