#include "job_query.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <limits>
#include <set>

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains_ci(std::string_view hay, const std::string& needle_lower) {
  if (needle_lower.size() > hay.size()) return false;
  return lower(hay).find(needle_lower) != std::string::npos;
}

/// Filtered listings scan storage in C++ (docs/dashboard.md): each request examines at
/// most this many rows, and only this many run at once, so searches over a big table
/// cannot take every I/O thread from /api/status and the rest.
constexpr std::size_t scan_budget = 20'000;
constexpr std::size_t scan_page = 1'000;
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
  const std::string needle = lower(query.text);
  const bool filtered_here = query.executor.has_value() || !needle.empty();
  auto matches = [&](const job& j) {
    if (query.executor && j.executor != *query.executor) return false;
    if (needle.empty()) return true;
    return contains_ci(j.id, needle) || contains_ci(j.command, needle) || contains_ci(j.last_error, needle);
  };

  std::optional<scan_slot> slot;
  if (filtered_here) slot.emplace();

  list_filter f;
  f.state = query.state;
  f.queue = query.queue;
  f.newest_first = newest;
  f.limit = filtered_here || query.after ? std::max<std::size_t>(scan_page, query.limit + 1) : query.limit + 1;

  // `last` only moves forward in the listing's order: a row seen twice because a page
  // shifted under us (a job inserted or deleted between two storage calls) is skipped.
  std::int64_t last = query.after ? query.after->seq
                                  : (newest ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min());
  auto after_last = [&](std::int64_t seq) { return newest ? seq < last : seq > last; };

  std::size_t pos = query.after ? query.after->offset_hint : 0;
  bool first = true;
  std::vector<job> out;
  std::vector<std::size_t> positions;
  std::size_t scanned = 0;
  std::optional<page_cursor> budget_cursor;  // where a scan cut short by the budget resumes
  for (;;) {
    f.offset = pos;
    std::vector<job> page = q.list(f);
    // The hint is wrong if the first row is already past the cursor (rows before it were
    // deleted, so some may be skipped) or there is nothing left: scan from the top.
    if (first && pos > 0 && (page.empty() || after_last(page.front().seq))) {
      first = false;
      pos = 0;
      continue;
    }
    first = false;
    for (std::size_t i = 0; i < page.size() && out.size() <= query.limit; ++i) {
      if (!after_last(page[i].seq)) continue;
      last = page[i].seq;
      ++scanned;
      if (!matches(page[i])) continue;
      out.push_back(std::move(page[i]));
      positions.push_back(pos + i + 1);
    }
    if (out.size() > query.limit || page.size() < f.limit) break;
    pos += page.size();
    if (filtered_here && scanned >= scan_budget) {
      // A short page with a cursor: the client asks again to go on (the dashboard's Next).
      budget_cursor = page_cursor{last, pos, newest};
      break;
    }
  }

  job_page result;
  if (budget_cursor && out.size() <= query.limit) {
    result.next_cursor = encode_cursor(*budget_cursor);
  } else if (out.size() > query.limit) {
    out.resize(query.limit);
    if (!out.empty()) result.next_cursor = encode_cursor({out.back().seq, positions[query.limit - 1], newest});
  }
  result.jobs = std::move(out);
  return result;
}

std::vector<minute_bucket> throughput_history::buckets(app::host_queue& q, time_point now, int minutes) {
  constexpr std::int64_t minute_ms = 60'000;
  constexpr std::int64_t grace_ms = 2'000;  // an attempt finished at :59.9 may be written a little later
  const std::int64_t now_ms = to_ms(now);
  const std::int64_t cur = now_ms / minute_ms;
  const std::int64_t first = cur - minutes + 1;

  std::lock_guard lock(mu_);
  closed_.erase(closed_.begin(), closed_.lower_bound(first));

  // Boundaries (minute starts) whose stats(since) we need: both ends of each uncached
  // minute, and the current minute's start.
  std::set<std::int64_t, std::greater<>> bounds = {cur};
  for (std::int64_t m = first; m < cur; ++m)
    if (!closed_.count(m)) bounds.insert({m, m + 1});

  std::map<std::int64_t, std::pair<std::size_t, std::size_t>> since;  // boundary → (ok, failed) since it
  auto at = [&](std::int64_t b) {
    const attempt_stats s = q.stats(from_ms(b * minute_ms));
    return std::make_pair(s.succeeded, s.failed);
  };
  // Attempts finishing between two calls would skew a difference: re-read the newest
  // boundary at the end and start over (a few times at most) if it moved.
  for (int tries = 0; tries < 3; ++tries) {
    since.clear();
    for (std::int64_t b : bounds) since[b] = at(b);
    if (at(cur) == since[cur]) break;
  }

  std::vector<minute_bucket> out;
  out.reserve(static_cast<std::size_t>(minutes));
  for (std::int64_t m = first; m <= cur; ++m) {
    minute_bucket b;
    b.start = from_ms(m * minute_ms);
    if (auto c = closed_.find(m); c != closed_.end()) {
      b.succeeded = c->second.first;
      b.failed = c->second.second;
    } else if (m == cur) {
      b.succeeded = since[cur].first;
      b.failed = since[cur].second;
    } else {
      const auto& a = since[m];
      const auto& z = since[m + 1];
      b.succeeded = a.first > z.first ? a.first - z.first : 0;
      b.failed = a.second > z.second ? a.second - z.second : 0;
      if ((m + 1) * minute_ms + grace_ms <= now_ms) closed_[m] = {b.succeeded, b.failed};
    }
    out.push_back(b);
  }
  return out;
}

}  // namespace queuectl::web
