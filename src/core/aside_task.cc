#include "core/aside_task.h"

#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace resdex {

AsideTask::AsideTask(std::function<void()> work) : work_(std::move(work)) {
  CPU_ZERO(&allowed_);
  if (sched_getaffinity(0, sizeof allowed_, &allowed_) != 0 || CPU_COUNT(&allowed_) < 2) return;
  cpu_set_t others = allowed_;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return;
  // Any allowed core but this one, until finish(): let free to move at
  // once, the thread was seen to be moved back onto the caller's core
  // within the first milliseconds, which are all it lives.
  const int here = sched_getcpu();
  if (here >= 0) CPU_CLR(here, &others);
  if (CPU_COUNT(&others) > 0) pthread_attr_setaffinity_np(&attr, sizeof others, &others);
  // The stack, above a guard page; without it the C library's own.
  const size_t guard = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mapped = mmap(nullptr, kStackSize + guard, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapped != MAP_FAILED) {
    if (mprotect(mapped, guard, PROT_NONE) == 0 &&
        pthread_attr_setstack(&attr, static_cast<char*>(mapped) + guard, kStackSize) == 0) {
      stack_ = mapped;
      stack_mapped_ = kStackSize + guard;
    } else {
      munmap(mapped, kStackSize + guard);
    }
  }
  started_ = pthread_create(&thread_, &attr, &AsideTask::thread_main, this) == 0;
  pthread_attr_destroy(&attr);
}

AsideTask::~AsideTask() {
  claimed_.exchange(true);
  if (started_) pthread_join(thread_, nullptr);
  if (stack_) munmap(stack_, stack_mapped_);
}

void* AsideTask::thread_main(void* self) {
  static_cast<AsideTask*>(self)->claim_and_run(true);
  return nullptr;
}

void AsideTask::claim_and_run(bool aside) {
  if (claimed_.exchange(true)) return;
  ran_aside_ = aside;
  try {
    work_();
  } catch (...) {
    error_ = std::current_exception();
  }
  done_.store(true, std::memory_order_release);
  done_.notify_one();
}

void AsideTask::finish() {
  claim_and_run(false);
  if (started_ &&
      !spin_until(std::chrono::microseconds(kSpinWaitMicros), [&] { return done_.load(std::memory_order_acquire); })) {
    // The thread has the work (or is ending): it may now take this core,
    // which waits for it, if its own is busy.
    pthread_setaffinity_np(thread_, sizeof allowed_, &allowed_);
    done_.wait(false, std::memory_order_acquire);
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace resdex
