// A least-recently-used cache bounded both in entries and in total weight
// (what each entry costs in memory, in any unit the caller chooses).
//
// Why both: a bound on entries alone lets memory grow with the size of what
// is cached. The SAKIP ledger's folded unit-years grow with their events: a
// cache of 4096 unit-years of 400 events each would hold ~630 MB, and a soak
// grew by that cache until it failed, so it is bounded by the events folded
// into it as well.
//
// Values are held as shared_ptr<const V>: a caller keeps what it got even
// after the entry is evicted or replaced.
//
// Thread-safety: not thread-safe; the owner locks.
#ifndef LEDGER_UTIL_WEIGHTED_LRU_H_
#define LEDGER_UTIL_WEIGHTED_LRU_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace ledger {

template <typename V>
class WeightedLru {
 public:
  WeightedLru(size_t max_entries, uint64_t max_weight)
      : max_entries_(max_entries), max_weight_(max_weight) {}

  // The value under `key`, now the most recently used; null if none.
  std::shared_ptr<const V> Get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // Stores `value` under `key` (replacing what was there), then evicts the
  // least recently used entries until both bounds hold. A value heavier than
  // the whole weight bound is not kept.
  void Put(const std::string& key, std::shared_ptr<const V> value, uint64_t weight) {
    Erase(key);
    if (weight > max_weight_ || max_entries_ == 0) return;
    order_.push_front(Entry{key, std::move(value), weight});
    index_[key] = order_.begin();
    total_weight_ += weight;
    while (index_.size() > max_entries_ || total_weight_ > max_weight_) EvictOldest();
  }

  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    total_weight_ -= it->second->weight;
    order_.erase(it->second);
    index_.erase(it);
  }

  size_t size() const { return index_.size(); }
  uint64_t total_weight() const { return total_weight_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const V> value;
    uint64_t weight;
  };

  void EvictOldest() {
    const Entry& oldest = order_.back();
    total_weight_ -= oldest.weight;
    index_.erase(oldest.key);
    order_.pop_back();
  }

  const size_t max_entries_;
  const uint64_t max_weight_;
  std::list<Entry> order_;  // most recently used first
  absl::flat_hash_map<std::string, typename std::list<Entry>::iterator> index_;
  uint64_t total_weight_ = 0;
};

}  // namespace ledger

#endif  // LEDGER_UTIL_WEIGHTED_LRU_H_
