// msbench's own engine behind the runner's Engine interface: a thin pass-through.
#include <stdexcept>

#include "engine.h"

namespace msb::cli {

namespace {

class MsbenchEngine final : public Engine {
 public:
  MsbenchEngine(Backend& backend, const MultiOptions& options)
      : multi_(backend.make_multi(options)) {}

  std::uint64_t add(const TransferSpec& spec) override {
    const AddResult added = multi_->add(spec);
    if (!added) throw std::runtime_error("msbench engine: " + added.detail);
    return added.id;
  }
  bool remove(std::uint64_t id) override { return multi_->remove(id); }
  bool end_loop(std::uint64_t id) override { return multi_->end_loop(id); }
  std::optional<Done> next_done() override { return multi_->info_read(); }
  std::size_t sockets() const override { return multi_->sockets(); }
  std::size_t running() const override { return static_cast<std::size_t>(multi_->running()); }
  MultiStats stats() const override { return multi_->stats(); }
  void reset_timing_stats() override { multi_->reset_timing_stats(); }

 private:
  std::unique_ptr<Multi> multi_;
};

}  // namespace

std::unique_ptr<Engine> make_msbench_engine(Backend& backend, const MultiOptions& options) {
  return std::make_unique<MsbenchEngine>(backend, options);
}

}  // namespace msb::cli
