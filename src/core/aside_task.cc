#include "core/aside_task.h"

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
  started_ = pthread_create(&thread_, &attr, &AsideTask::thread_main, this) == 0;
  pthread_attr_destroy(&attr);
}

AsideTask::~AsideTask() {
  claimed_.exchange(true);
  if (started_) pthread_join(thread_, nullptr);
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
  if (started_ && !done_.load(std::memory_order_acquire)) {
    // The thread has the work (or is ending): it may now take this core,
    // which waits for it, if its own is busy.
    pthread_setaffinity_np(thread_, sizeof allowed_, &allowed_);
    done_.wait(false, std::memory_order_acquire);
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace resdex
