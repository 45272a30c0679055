// The REST API's job listing (filters and keyset cursors over list_filter) and its
// per-minute attempt buckets (finished_per_minute).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host_queue.hpp"

namespace queuectl::web {

/// Where the next page starts: after the job with this seq (in the listing's order).
/// `offset_hint` is no longer used (pages are keyset: seq bounds in the storage query);
/// it stays in the encoding so that cursors handed out before remain valid.
struct page_cursor {
  std::int64_t seq = 0;
  std::size_t offset_hint = 0;
  bool newest_first = true;
};

/// Opaque text form (base64url): clients pass it back unchanged.
std::string encode_cursor(const page_cursor& c);
std::optional<page_cursor> decode_cursor(std::string_view text);

struct job_query {
  std::optional<job_state> state;
  std::optional<std::string> queue;
  std::optional<std::string> executor;
  std::string text;  ///< case-insensitive substring of id, command or last_error
  std::size_t limit = 50;
  bool newest_first = true;
  std::optional<page_cursor> after;
};

struct job_page {
  std::vector<job> jobs;
  std::optional<std::string> next_cursor;  ///< nullopt on the last page
};

/// One page, every filter applied by the storage's query (list_filter). A search
/// (executor or text) examines a window of at most 20,000 seqs per call: it may return
/// fewer than `limit` jobs with a next cursor (ask again to go on); and at most two run at
/// once (a third gets http_error 503).
job_page query_jobs(app::host_queue& q, const job_query& query);

struct minute_bucket {
  time_point start;
  std::size_t succeeded = 0;
  std::size_t failed = 0;  ///< failed + timed out
};

/// Finished attempts per minute over the last `minutes`, oldest first, the last bucket
/// being the current (partial) minute: one storage query (finished_per_minute).
class throughput_history {
 public:
  std::vector<minute_bucket> buckets(app::host_queue& q, time_point now, int minutes);
};

}  // namespace queuectl::web
