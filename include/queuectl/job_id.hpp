/// @file
/// @brief Generated job ids: unique, shell- and URL-safe, roughly time-ordered.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "queuectl/time.hpp"

namespace queuectl {

/// @brief `0193a1b2c3d4-5f2a9c1e`: 12 hex digits of the millisecond clock, then 8 random hex
/// digits. Sorting ids sorts by creation time; 32 random bits make a clash within the same
/// millisecond a one-in-four-billion event, and storage rejects a clash anyway.
inline std::string generate_job_id() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llx-%08x", static_cast<unsigned long long>(to_ms(now())) & 0xffffffffffffULL,
                static_cast<unsigned>(rng() & 0xffffffffU));
  return buf;
}

}  // namespace queuectl
