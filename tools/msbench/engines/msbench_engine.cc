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
  std::optional<Ended> next_done() override {
    if (auto d = multi_->info_read()) return Ended{d->result, d->timings.total_us};
    return std::nullopt;
  }
  std::size_t sockets() const override { return multi_->sockets(); }
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
