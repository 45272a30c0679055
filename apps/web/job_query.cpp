#include "job_query.hpp"

#include <algorithm>
#include <atomic>
#include <limits>

#include "router.hpp"

namespace queuectl::web {

namespace {

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = 0;
  for (unsigned char c : in) {
    val = (val << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += b64[(val >> bits) & 63];
    }
  }
  if (bits > 0) out += b64[(val << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> unbase64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::find(b64, b64 + 64, c);
    if (p == b64 + 64) return std::nullopt;
    val = (val << 6) | static_cast<unsigned>(p - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((val >> bits) & 0xff);
    }
  }
  return out;
}

bool parse_int(std::string_view s, long long& out) {
  if (s.empty() || s.size() > 19) return false;
  bool neg = s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (s.empty()) return false;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = neg ? -v : v;
  return true;
}

/// Searches (executor, text) read rows no index narrows (docs/dashboard.md): each request
/// looks at a window of at most this many seqs, and only this many run at once, so
/// searches over a big table cannot take every I/O thread from /api/status and the rest.
constexpr std::int64_t scan_budget = 20'000;
constexpr int max_concurrent_scans = 2;
std::atomic<int> scans_running{0};

class scan_slot {
 public:
  scan_slot() {
    if (scans_running.fetch_add(1) >= max_concurrent_scans) {
      --scans_running;
      throw http_error{503, "queuectl.web.search_busy",
                       "other searches are running: try again in a moment (at most " +
                           std::to_string(max_concurrent_scans) + " at once)"};
    }
  }
  ~scan_slot() { --scans_running; }
  scan_slot(const scan_slot&) = delete;
  scan_slot& operator=(const scan_slot&) = delete;
};

}  // namespace

std::string encode_cursor(const page_cursor& c) {
  return base64url(std::string("v1:") + (c.newest_first ? "n" : "o") + ":" + std::to_string(c.seq) + ":" +
                   std::to_string(c.offset_hint));
}

std::optional<page_cursor> decode_cursor(std::string_view text) {
  if (text.empty() || text.size() > 96) return std::nullopt;
  auto raw = unbase64url(text);
  if (!raw || raw->rfind("v1:", 0) != 0) return std::nullopt;
  std::string_view s(*raw);
  s.remove_prefix(3);
  if (s.size() < 2 || (s[0] != 'n' && s[0] != 'o') || s[1] != ':') return std::nullopt;
  page_cursor c;
  c.newest_first = s[0] == 'n';
  s.remove_prefix(2);
  const auto colon = s.find(':');
  long long seq = 0, hint = 0;
  if (colon == std::string_view::npos || !parse_int(s.substr(0, colon), seq) || !parse_int(s.substr(colon + 1), hint) ||
      hint < 0)
    return std::nullopt;
  c.seq = seq;
  c.offset_hint = static_cast<std::size_t>(hint);
  return c;
}

job_page query_jobs(app::host_queue& q, const job_query& query) {
  const bool newest = query.newest_first;
  const bool searching = query.executor.has_value() || !query.text.empty();
  std::optional<scan_slot> slot;
  if (searching) slot.emplace();

  // Where this page starts, exclusive: the cursor's seq (clamped, so that a forged one
  // cannot overflow the arithmetic below), else the table's edge.
  constexpr std::int64_t seq_cap = std::numeric_limits<std::int64_t>::max() / 4;
  std::optional<std::int64_t> start;
  if (query.after) start = std::clamp<std::int64_t>(query.after->seq, 0, seq_cap);

  list_filter f;
  f.state = query.state;
  f.queue = query.queue;
  f.executor = query.executor;
  f.text = query.text;
  f.newest_first = newest;
  f.limit = query.limit + 1;
  // Searches: one window of scan_budget seqs per call (storage examines no more rows), and
  // a cursor at its end when the table goes on past it.
  std::optional<std::int64_t> window_end;
  if (searching) {
    if (!start) {
      list_filter edge;
      edge.newest_first = true;
      edge.limit = 1;
      const auto top = q.list(edge);
      if (top.empty()) return {};
      start = newest ? std::min(top.front().seq, seq_cap) + 1 : 0;
    }
    window_end = newest ? *start - scan_budget : *start + scan_budget;
    (newest ? f.min_seq : f.max_seq) = *window_end;
  }
  if (start) (newest ? f.max_seq : f.min_seq) = newest ? *start - 1 : *start + 1;

  job_page result;
  result.jobs = q.list(f);
  if (result.jobs.size() > query.limit) {
    result.jobs.resize(query.limit);
    if (!result.jobs.empty()) result.next_cursor = encode_cursor({result.jobs.back().seq, 0, newest});
  } else if (window_end) {
    list_filter beyond;  // any job past the window, matching or not: the client asks on
    beyond.newest_first = newest;
    beyond.limit = 1;
    (newest ? beyond.max_seq : beyond.min_seq) = newest ? *window_end - 1 : *window_end + 1;
    if (!q.list(beyond).empty()) result.next_cursor = encode_cursor({*window_end, 0, newest});
  }
  return result;
}

std::vector<minute_bucket> throughput_history::buckets(app::host_queue& q, time_point now, int minutes) {
  constexpr std::int64_t minute_ms = 60'000;
  const std::int64_t cur = to_ms(now) / minute_ms;
  const std::int64_t first = cur - minutes + 1;
  std::vector<minute_bucket> out;
  out.reserve(static_cast<std::size_t>(std::max(0, minutes)));
  for (std::int64_t m = first; m <= cur; ++m) out.push_back({from_ms(m * minute_ms), 0, 0});
  for (const minute_count& c : q.finished_per_minute(from_ms(first * minute_ms))) {
    if (c.minute < first || c.minute > cur) continue;  // finished "later" by another host's clock
    minute_bucket& b = out[static_cast<std::size_t>(c.minute - first)];
    b.succeeded = c.succeeded;
    b.failed = c.failed;
  }
  return out;
}

}  // namespace queuectl::web
