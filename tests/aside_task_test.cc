#include "core/aside_task.h"

#include <doctest/doctest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <optional>
#include <thread>
#include <vector>

namespace resdex {
namespace {

// The cores this process may run on.
int allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

// Keeps the calling thread (and threads it starts) to the core it is on,
// for the life of the object.
class OneCore {
 public:
  OneCore() {
    sched_getaffinity(0, sizeof before_, &before_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
  }
  ~OneCore() { sched_setaffinity(0, sizeof before_, &before_); }

 private:
  cpu_set_t before_;
};

TEST_CASE("aside_task: the work runs once, on its thread when the caller is still busy") {
  std::atomic<int> runs{0};
  std::thread::id ran_on;
  std::promise<void> began;
  std::future<void> begun = began.get_future();
  AsideTask task([&] {
    ++runs;
    ran_on = std::this_thread::get_id();
    began.set_value();
  });
  // The caller is busy until the thread has begun (or, with one core, no
  // thread will): on a loaded machine that may take a while.
  if (allowed_cores() > 1) CHECK(begun.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  task.finish();
  CHECK(runs == 1);
  if (allowed_cores() > 1) {
    CHECK(task.ran_aside());
    CHECK(ran_on != std::this_thread::get_id());
  }
}

TEST_CASE("aside_task: with one core the caller runs the work in finish()") {
  OneCore pinned;
  std::atomic<int> runs{0};
  std::thread::id ran_on;
  AsideTask task([&] {
    ++runs;
    ran_on = std::this_thread::get_id();
  });
  task.finish();
  CHECK(runs == 1);
  CHECK_FALSE(task.ran_aside());
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("aside_task: finish() rethrows what the work threw, wherever it ran") {
  for (bool one_core : {false, true}) {
    CAPTURE(one_core);
    std::optional<OneCore> pinned;
    if (one_core) pinned.emplace();
    AsideTask task([] { throw std::runtime_error("counting failed"); });
    CHECK_THROWS_WITH_AS(task.finish(), "counting failed", std::runtime_error);
  }
}

TEST_CASE("aside_task: finish() sees the work's results, whether it waits spinning or asleep") {
  // Work shorter than finish()'s spin, and longer, begun before finish().
  for (long micros : {0L, 50L, AsideTask::kSpinWaitMicros * 4}) {
    CAPTURE(micros);
    std::vector<int> made;
    std::promise<void> began;
    std::future<void> begun = began.get_future();
    AsideTask task([&] {
      began.set_value();
      std::this_thread::sleep_for(std::chrono::microseconds(micros));
      made.assign(1000, 7);
    });
    if (allowed_cores() > 1) REQUIRE(begun.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    task.finish();
    CHECK(made.size() == 1000);
    CHECK(made.back() == 7);
  }
}

TEST_CASE("aside_task: the thread's own stack holds a deep call chain") {
  // 4 MB of frames, half the stack the task maps: the C library's default
  // stack size, which the work must not be short of.
  struct Deep {
    static size_t down(size_t depth) {
      volatile char frame[4096];
      frame[0] = 1;
      return depth == 0 ? frame[0] : down(depth - 1) + frame[0];
    }
  };
  size_t result = 0;
  AsideTask task([&] { result = Deep::down(1024); });
  task.finish();
  CHECK(result == 1025);
}

TEST_CASE("aside_task: without finish() the destructor waits for work that has begun, and runs none") {
  for (int i = 0; i < 50; ++i) {
    std::atomic<int> began{0}, ended{0};
    {
      AsideTask task([&] {
        ++began;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++ended;
      });
      if (i % 2) std::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 5)));
    }
    CHECK(began <= 1);
    CHECK(ended == began);
  }
}

}  // namespace
}  // namespace resdex
