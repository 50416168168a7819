#pragma once

// Cluster: what cluster-aware components see of the cluster: who owns which key, and when
// that changes. The agent's gossip node (cluster/node.h) implements it; an agent run without
// --cluster.enabled is a one-node cluster (StandaloneCluster) that owns everything.
//
// Thread-safety: implementations are thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cluster/membership.h"
#include "cluster/placement.h"

namespace starling::cluster {

// A consistent snapshot of ownership.
struct ClusterView {
  std::shared_ptr<const Placement> placement;  // over the participants; never null
  std::string self;                            // this node's name
  // False while --cluster.wait-for-size is not met: cluster-aware components own nothing.
  bool ready = true;
  std::uint64_t version = 0;  // changes whenever the view does

  // Whether this node owns `key` (a target's hash).
  bool Owns(std::uint64_t key) const { return ready && placement->Owns(key, self); }
};

class Cluster {
 public:
  using Callback = std::function<void()>;
  virtual ~Cluster() = default;

  virtual ClusterView View() const = 0;
  // Every known member, self included (dead and left ones while they are remembered).
  virtual std::vector<Member> Members() const = 0;

  // Runs `fn` after each change of View(), on the cluster's thread; `fn` must be quick (it
  // should only wake up the subscriber). Returns an id for Unsubscribe; once Unsubscribe
  // returns, `fn` is not running and will not run again.
  std::uint64_t Subscribe(Callback fn);
  void Unsubscribe(std::uint64_t id);

 protected:
  // Implementations call this after their view changed (never with their own locks held).
  void NotifySubscribers();

 private:
  std::mutex subscribers_mu_;  // held while callbacks run, so Unsubscribe waits for them
  std::uint64_t next_id_ = 1;
  std::vector<std::pair<std::uint64_t, Callback>> subscribers_;
};

// One node that owns everything: the agent without --cluster.enabled.
class StandaloneCluster final : public Cluster {
 public:
  StandaloneCluster(std::string self, std::string addr);
  ClusterView View() const override { return view_; }
  std::vector<Member> Members() const override { return {self_}; }

 private:
  ClusterView view_;
  Member self_;
};

}  // namespace starling::cluster
