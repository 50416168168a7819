#pragma once

// TimerQueue: functions due at points in time, taken out earliest first, and those due at the
// same time in the order they were added. Shared by the threads that run timers (the scrape
// scheduler's and the HTTP client's). Not thread-safe: its owner guards it.

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace starling::base {

template <typename Time>
class TimerQueue {
 public:
  // Adds fn, due at `due`; true when it is now the earliest.
  bool Add(Time due, std::function<void()> fn) {
    const bool earliest = heap_.empty() || due < heap_.top().due;
    heap_.push(Timer{due, seq_++, std::move(fn)});
    return earliest;
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // When the earliest is due. Not on an empty queue.
  Time earliest() const { return heap_.top().due; }

  // Removes and returns the earliest function if it is due at `now`; an empty one otherwise.
  std::function<void()> PopDue(Time now) {
    if (heap_.empty() || now < heap_.top().due) return nullptr;
    // top() is const only so that the order cannot be broken; the entry is popped right after.
    std::function<void()> fn = std::move(const_cast<Timer&>(heap_.top()).fn);
    heap_.pop();
    return fn;
  }

 private:
  struct Timer {
    Time due;
    std::uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.due != b.due ? b.due < a.due : a.seq > b.seq;
    }
  };

  std::priority_queue<Timer, std::vector<Timer>, Later> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace starling::base
