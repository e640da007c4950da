// A piece of work run beside the caller's, on a core the caller is not on.
//
// A search counts its matches (total, facets) while it ranks the page and
// makes its snippets; the two share nothing and take about as long, so on
// a machine with a core to spare the counts cost no wall time. Two things
// make a plain std::thread no good at that:
//
// - Linux often queues a new thread on its parent's core, and an idle
//   core takes it over only at the next load-balancing tick: the thread
//   then starts ~2 ms late, when a search's work is done. So the thread is
//   started on the other cores than the caller's. Once the caller waits
//   for it, it may run anywhere again: on a busy machine the core it was
//   put on may not get to it, while the caller's core is about to idle.
// - On a busy machine the other core may not get to the thread soon. So
//   whoever comes first runs the work: the thread when it starts, or the
//   caller in finish() if the thread has not begun by then. The work runs
//   exactly once, and never costs more than running it in finish() would
//   (plus starting a thread, ~50 us, and finish()'s spin, kSpinWait).
//
// The thread runs on a stack the task maps itself (kStackSize, with a
// guard page below it), unmapped by the destructor: the C library would
// give a stack of its own back to the kernel page by page (madvise) as the
// thread ends, which makes the kernel stop the caller's core to flush its
// view of the address space.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>

#include <pthread.h>
#include <sched.h>

namespace resdex {

// A short pause in a spin wait, kind to the core's other hardware thread.
inline void pause_briefly() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() is true or `limit` has passed, and returns whether
// done() was: for waits that are mostly shorter than a core's wake-up
// from sleep (~0.03-0.1 ms on a virtual machine), with a core to spare.
template <class Done>
bool spin_until(std::chrono::microseconds limit, Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (unsigned spins = 1;; ++spins) {
    if (done()) return true;
    if (spins % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
    pause_briefly();
  }
}

class AsideTask {
 public:
  // Starts `work` on a thread of its own (on one machine with one core, or
  // when no thread can be made, it runs in finish()). `work` must not
  // touch what the caller uses until finish() returns.
  explicit AsideTask(std::function<void()> work);
  // Waits for the work if it has begun; drops an exception it threw. A
  // task whose work has not begun is not run.
  ~AsideTask();
  AsideTask(const AsideTask&) = delete;
  AsideTask& operator=(const AsideTask&) = delete;

  // Returns once the work has run: on the thread, waiting for it, or here
  // if the thread has not begun it. Rethrows what the work threw. It does
  // not wait for the thread to end (the destructor does): a thread's exit
  // takes the kernel ~0.03-0.1 ms more, which the caller need not wait
  // through. It waits spinning, up to kSpinWait, then asleep: a core woken
  // from sleep on a virtual machine comes back ~0.03 ms after the work is
  // done, a search's remaining wait is mostly shorter than that, and the
  // thread has its own core.
  void finish();

  // How long finish() spins before it sleeps.
  static constexpr long kSpinWaitMicros = 300;
  // The thread's stack; what it does not touch costs nothing.
  static constexpr size_t kStackSize = size_t{8} << 20;

  // Whether the work ran on the thread rather than in finish() (known
  // after finish()).
  bool ran_aside() const { return ran_aside_; }

 private:
  static void* thread_main(void* self);
  // Runs the work if nobody has claimed it yet.
  void claim_and_run(bool aside);

  std::function<void()> work_;
  std::atomic<bool> claimed_{false};
  std::atomic<bool> done_{false};  // the work has run (error_, ran_aside_ set)
  std::exception_ptr error_;
  bool ran_aside_ = false;
  bool started_ = false;  // thread_ exists and is to be joined (by the destructor)
  void* stack_ = nullptr;  // the mapping of the thread's stack and its guard page, if made
  size_t stack_mapped_ = 0;
  cpu_set_t allowed_;     // the cores the caller may run on
  pthread_t thread_{};
};

}  // namespace resdex
